# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recurring Billing",
    "summary": "Recurring contracts that draft, post and send their invoices "
    "every period, exactly once",
    "version": "18.0.1.2.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "recurring_billing developers",
    "website": "https://example.com/recurring_billing",
    "depends": ["account", "sale_management", "portal"],
    "external_dependencies": {"python": ["python-dateutil"]},
    "data": [
        "security/ir.model.access.csv",
        "security/recurring_billing_security.xml",
        "report/recurring_contract_reports.xml",
        "report/recurring_contract_templates.xml",
        "data/ir_sequence_data.xml",
        "data/res_users_data.xml",
        "data/ir_cron_data.xml",
        "data/recurring_contract_close_reason_data.xml",
        "data/mail_template_data.xml",
        "data/recurring_price_index_data.xml",
        # The wizards' actions first: the contract form's buttons use them.
        "wizard/recurring_contract_start_wizard_views.xml",
        "wizard/recurring_contract_pause_wizard_views.xml",
        "wizard/recurring_contract_close_wizard_views.xml",
        "wizard/recurring_contract_renew_wizard_views.xml",
        "wizard/recurring_contract_line_change_wizard_views.xml",
        "views/recurring_contract_views.xml",
        "views/recurring_contract_template_views.xml",
        "views/recurring_contract_close_reason_views.xml",
        "views/res_partner_views.xml",
        "views/sale_order_views.xml",
        "views/product_template_views.xml",
        "views/account_move_views.xml",
        "views/res_config_settings_views.xml",
        "views/recurring_contract_portal_templates.xml",
        "views/recurring_price_index_views.xml",
        # Last: the menus reference the actions defined above.
        "views/recurring_billing_menus.xml",
    ],
    "demo": [
        "demo/recurring_billing_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "recurring_billing/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "application": False,
    "development_status": "Alpha",
}
