# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Recurring Billing - Job Queue",
    "summary": "The daily billing run as queue_job jobs, one per batch of one "
    "company and journal: several servers and workers share it",
    "version": "1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "recurring_billing developers",
    "website": "https://example.com/recurring_billing",
    "depends": ["recurring_billing", "queue_job"],
    "data": [
        "data/queue_job_data.xml",
    ],
    # Installed as soon as queue_job is: the installations that run its
    # job runner get the distributed engine; without it nothing changes.
    "auto_install": True,
    "installable": True,
    "development_status": "Alpha",
}
