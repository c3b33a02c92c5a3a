/** @odoo-module **/

import PaymentForm from "@payment/js/payment_form";

// Paying an invoice of a contract: the "charge automatically" box next to
// Odoo's payment form asks the transaction route to save the payment method
// on the contract (controllers/payment.py).
PaymentForm.include({
    /**
     * @override
     */
    _prepareTransactionRouteParams() {
        const params = this._super(...arguments);
        const checkbox = this.el.querySelector('input[name="o_rb_charge_automatically"]');
        if (checkbox?.checked) {
            params.recurring_charge_automatically = true;
        }
        return params;
    },
});
