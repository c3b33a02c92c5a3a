# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recurring Billing - Spain",
    "summary": "Recurring contracts in Spain: the customer's NIF, address and "
    "FACe centres checked before billing, the e-invoicing state (SII, "
    "TicketBAI) of each contract's invoices",
    "version": "1.0.0",
    "category": "Accounting/Localizations",
    "countries": ["es"],
    "license": "LGPL-3",
    "author": "recurring_billing developers",
    "website": "https://example.com/recurring_billing",
    "depends": ["recurring_billing", "l10n_es", "account_edi"],
    "data": [
        "views/recurring_contract_views.xml",
    ],
    # Installed with the Spanish localisation; account_edi (Odoo's own EDI
    # framework, which SII and TicketBAI use) comes with it.
    "auto_install": ["recurring_billing", "l10n_es"],
    "installable": True,
    "development_status": "Alpha",
}
