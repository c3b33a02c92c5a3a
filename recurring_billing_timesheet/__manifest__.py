# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recurring Billing: Timesheets",
    "summary": "Bill the hours timesheeted on a project through a usage line "
    "of a recurring contract",
    "version": "1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "recurring_billing developers",
    "website": "https://example.com/recurring_billing",
    # A bridge: installs itself when both are there, so recurring_billing
    # keeps its own dependencies.
    "depends": ["recurring_billing", "hr_timesheet"],
    "data": [
        "views/recurring_contract_views.xml",
    ],
    "installable": True,
    "auto_install": True,
    "development_status": "Alpha",
}
