/** @odoo-module */

import { registry } from "@web/core/registry";

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
        // Odoo's stepUtils.saveForm(), written out: its module moved in 19.0.
        {
            content: "Save the contract",
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "Wait for the save",
            trigger: ".o_form_readonly, .o_form_saved",
        },
        {
            content: "Start the contract",
            trigger: '.o_form_statusbar .o_statusbar_buttons button:contains("Start")',
            run: "click",
        },
        {
            content: "The Start dialog says the customer is told",
            trigger: '.modal div[name="notice_summary"]:contains("tour@example.com")',
        },
        {
            content: "Keep the notice and start billing",
            trigger: '.modal button[name="action_start"]',
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
            expectUnloadPage: true,
        },
        {
            content: "Open the contract",
            trigger: "a.o_contract_link",
            run: "click",
            expectUnloadPage: true,
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
            // Its link, not a click: a download starts no new page, which
            // 19.0's tours cannot tell from a navigation (the test fetches
            // the PDF itself).
            content: "The invoice PDF can be downloaded",
            trigger: '#contract_content a.o_contract_invoice_pdf[href*="report_type=pdf"]',
        },
    ],
});

// Back office: start without telling the customer, pause and resume on
// chosen dates (each dialog says what is billed), then renew the term.
registry.category("web_tour.tours").add("recurring_billing_lifecycle_tour", {
    steps: () => [
        {
            content: "Start the draft contract",
            trigger: '.o_form_statusbar .o_statusbar_buttons button:contains("Start")',
            run: "click",
        },
        {
            content: "The first invoice is announced",
            trigger: '.modal div[name="summary"]:contains("First invoice issued on")',
        },
        {
            content: "Do not email the customer",
            trigger: '.modal div[name="notify_customer"] input',
            run: "click",
        },
        {
            trigger: '.modal:not(:has(div[name="notice_summary"]:contains("emailed")))',
        },
        {
            content: "Start billing",
            trigger: '.modal button[name="action_start"]',
            run: "click",
        },
        {
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Running")',
        },
        {
            content: "Pause",
            trigger: '.o_form_statusbar .o_statusbar_buttons button:contains("Pause")',
            run: "click",
        },
        {
            content: "Pause from a date",
            trigger: '.modal div[name="date"] input',
            run: "edit 02/01/2027 && press Enter",
        },
        {
            content: "The dialog says what is not billed",
            trigger: '.modal div[name="summary"]:contains("Nothing is billed from 02/01/2027")',
        },
        {
            trigger: '.modal button:contains("Pause Billing")',
            run: "click",
        },
        {
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Paused")',
        },
        {
            content: "Resume",
            trigger: '.o_form_statusbar .o_statusbar_buttons button:contains("Resume")',
            run: "click",
        },
        {
            content: "Resume on a date",
            trigger: '.modal div[name="date"] input',
            run: "edit 03/01/2027 && press Enter",
        },
        {
            content: "The dialog says what the pause leaves out",
            trigger: '.modal div[name="summary"]:contains("28 days paused from 02/01/2027")',
        },
        {
            trigger: '.modal button:contains("Resume Billing")',
            run: "click",
        },
        {
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Running")',
        },
        {
            content: "Renew",
            trigger: '.o_form_statusbar .o_statusbar_buttons button:contains("Renew")',
            run: "click",
        },
        {
            content: "The dialog shows the current and the new end date",
            trigger: '.modal div[name="summary"]:contains("from 12/31/2027 to 12/31/2028")',
        },
        {
            trigger: '.modal button[name="action_renew"]:contains("Renew")',
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});
