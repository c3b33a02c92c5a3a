/** @odoo-module **/

import { patch } from "@web/core/utils/patch";

// Paying an invoice of a contract: the "charge automatically" box next to
// Odoo's payment form asks the transaction route to save the payment method
// on the contract (controllers/payment.py).
//
// Odoo's payment form is a public widget on 18.0 (@payment/js/payment_form)
// and an interaction on 19.0 (@payment/interactions/payment_form): looked up
// in the module loader rather than imported, so that one file serves both
// series (an import of the other series' module would stop the bundle). The
// payment module's files come before this addon's in the bundle.

function addChargeAutomatically(formElement, params) {
    const checkbox = formElement.querySelector('input[name="o_rb_charge_automatically"]');
    if (checkbox?.checked) {
        params.recurring_charge_automatically = true;
    }
    return params;
}

const interaction = odoo.loader.modules.get("@payment/interactions/payment_form");
const widget = odoo.loader.modules.get("@payment/js/payment_form");

if (interaction) {
    patch(interaction.PaymentForm.prototype, {
        /**
         * @override
         */
        _prepareTransactionRouteParams() {
            return addChargeAutomatically(this.el, super._prepareTransactionRouteParams(...arguments));
        },
    });
} else if (widget) {
    // Odoo's module transpiler keeps a default export under this symbol.
    widget[Symbol.for("default")].include({
        /**
         * @override
         */
        _prepareTransactionRouteParams() {
            return addChargeAutomatically(this.el, this._super(...arguments));
        },
    });
}
