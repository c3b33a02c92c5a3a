# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from .selections import INVOICE_ACTION_SELECTION


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    recurring_journal_id = fields.Many2one(
        related="company_id.recurring_journal_id",
        readonly=False,
    )
    recurring_invoice_action = fields.Selection(
        selection=INVOICE_ACTION_SELECTION,
        string="Default Invoice Action",
        default="post",
        config_parameter="recurring_billing.default_invoice_action",
    )
    recurring_reminder_days = fields.Integer(
        string="Reminder Days Before Invoice",
        config_parameter="recurring_billing.reminder_days",
        help="Email the customer this many days before each invoice; 0 sends "
        "no reminder.",
    )
    recurring_renewal_reminder_days = fields.Integer(
        string="Renewal Notice Days",
        config_parameter="recurring_billing.renewal_reminder_days",
        help="Email the customer this many days before a term renews itself; "
        "0 sends no notice.",
    )
    recurring_retry_days = fields.Char(
        related="company_id.recurring_retry_days", readonly=False
    )
    recurring_dunning_action = fields.Selection(
        related="company_id.recurring_dunning_action", readonly=False
    )
    recurring_dunning_close_reason_id = fields.Many2one(
        related="company_id.recurring_dunning_close_reason_id", readonly=False
    )
    recurring_unpaid_reminder_days = fields.Char(
        related="company_id.recurring_unpaid_reminder_days", readonly=False
    )
    recurring_unpaid_action = fields.Selection(
        related="company_id.recurring_unpaid_action", readonly=False
    )
    recurring_unpaid_action_days = fields.Integer(
        related="company_id.recurring_unpaid_action_days", readonly=False
    )
