/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Back office: create a contract from a template, start it, invoice it now,
// and land on the posted invoice.
registry.category("web_tour.tours").add("recurring_billing_backend_tour", {
    url: "/odoo/action-recurring_billing.action_recurring_contract",
    steps: () => [
        {
            content: "Create a contract",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the customer",
            trigger: 'div.o_field_widget[name="partner_id"] input',
            run: "edit Tour Customer",
        },
        {
            trigger: '.ui-menu-item a:contains("Tour Customer")',
            run: "click",
        },
        {
            content: "Choose the template",
            trigger: 'div.o_field_widget[name="template_id"] input',
            run: "edit Tour Template",
        },
        {
            trigger: '.ui-menu-item a:contains("Tour Template")',
            run: "click",
        },
        {
            content: "The template filled the lines",
            trigger: 'div[name="line_ids"] .o_data_row td:contains("Tour Service")',
        },
        ...stepUtils.saveForm(),
        {
            content: "Start the contract",
            trigger: 'button[name="action_start"]',
            run: "click",
        },
        {
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Running")',
        },
        {
            content: "Invoice now",
            trigger: 'button[name="action_generate_invoices"]',
            run: "click",
        },
        {
            content: "The posted invoice opens",
            trigger: '.o_form_view .o_statusbar_status button.o_arrow_button_current:contains("Posted")',
        },
        {
            content: "The invoice links back to its contract",
            trigger: '.o_form_view button[name="action_open_recurring_contract"]',
        },
    ],
});

// Portal: the customer opens the contract and downloads an invoice PDF.
registry.category("web_tour.tours").add("recurring_billing_portal_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open the contracts tile",
            trigger: 'a[href="/my/contracts"]',
            run: "click",
        },
        {
            content: "Open the contract",
            trigger: "a.o_contract_link",
            run: "click",
        },
        {
            content: "The billing schedule is shown",
            trigger: "#billing_schedule",
        },
        {
            content: "The invoice is listed",
            trigger: "#contract_content a.o_contract_invoice_link",
        },
        {
            content: "Download the invoice PDF",
            trigger: "#contract_content a.o_contract_invoice_pdf",
            run: "click",
        },
    ],
});
