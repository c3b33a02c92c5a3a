/** @odoo-module */

import { registry } from "@web/core/registry";

// Portal, getting paid: replace the saved card of a contract, request its
// cancellation, then open an invoice's payment form from the contract.
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
    ],
});
