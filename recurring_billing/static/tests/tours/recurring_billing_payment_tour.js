/** @odoo-module */

import { registry } from "@web/core/registry";

// Portal, getting paid: replace the saved card of a contract, request its
// cancellation, then pay an invoice of the contract from its page with a new
// card, asking to be charged automatically with it from now on.
registry.category("web_tour.tours").add("recurring_billing_payment_tour", {
    steps: () => [
        {
            content: "The contract says how it is paid",
            trigger: "#contract_payment_token:contains('Charged automatically on')",
        },
        {
            content: "Replace the payment method",
            trigger: "a.o_contract_payment_method",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Choose the other card",
            trigger: ".o_portal_contract_payment_method label:contains('2222') input",
            run: "click",
        },
        {
            trigger: "button.o_contract_save_payment_method",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Saved",
            trigger: "#payment_method_saved",
        },
        {
            trigger: "#contract_payment_token:contains('2222')",
        },
        {
            content: "Request cancellation",
            trigger: "a.o_contract_cancel",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: "#cancel_reason",
            run: "edit Moving to another tool",
        },
        {
            trigger: "button.o_contract_cancel_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The request is sent",
            trigger: "#cancel_requested",
        },
        {
            content: "Pay an open invoice",
            trigger: "a.o_contract_invoice_pay",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Odoo's payment form of the invoice opens, with the saved card",
            trigger: "#pay_with .o_payment_form:contains('2222')",
        },
        {
            content: "Be charged automatically with the card paid with",
            trigger: "#pay_with input[name='o_rb_charge_automatically']",
            run: "click",
        },
        {
            content: "Saved cards come first: show the other payment methods",
            trigger: "#pay_with button[name='o_payment_expand_button']",
            run: "click",
        },
        {
            content: "Pay with a new card",
            trigger:
                "#pay_with input[name='o_payment_radio'][data-payment-option-type='payment_method']",
            run: "click",
        },
        {
            trigger: "#pay_with #customer_input",
            run: "edit 4242 4242 4242 4242",
        },
        {
            trigger: "#pay_with button[name='o_payment_submit_button']:enabled",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Paid: back on the invoice once Odoo processed the payment",
            trigger: "div.o_download_pdf",
            timeout: 30000,
        },
    ],
});
