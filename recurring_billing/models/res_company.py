# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import dunning
from .selections import DUNNING_ACTION_SELECTION


class ResCompany(models.Model):
    _inherit = "res.company"

    recurring_journal_id = fields.Many2one(
        comodel_name="account.journal",
        string="Default Contract Journal",
        domain="[('type', '=', 'sale'), ('company_id', '=', id)]",
    )

    def _get_recurring_today(self):
        """Today in the company's time zone (its address's), never the
        server's or the user's: the one date the addon dates things with
        (billing runs, buttons, pauses, closes, charges, reminders, MRR), so
        that the scheduled action, a salesperson's button and a portal
        request agree on the date of one contract. UTC when the address has
        no time zone."""
        self.ensure_one()
        tz = self.partner_id.tz or "UTC"
        return fields.Date.context_today(self.with_context(tz=tz))

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # The billing scheduled action runs as a dedicated user: it must see
        # every company to bill its contracts. Only this module's own bot is
        # touched, and only to add the new companies (sudo: writing users'
        # companies needs settings rights the creator may not have).
        bot = self.env.ref(
            "recurring_billing.user_billing_bot", raise_if_not_found=False
        )
        if bot:
            bot.sudo().company_ids = [fields.Command.link(c.id) for c in companies]
        return companies

    # Getting paid: retries of failed charges and the policy for
    # unpaid invoices of contracts without a saved payment method.
    recurring_retry_days = fields.Char(
        string="Payment Retry Days",
        default="1,3,7",
        help="Days after a failed automatic charge on which it is tried again, "
        "counted from the first failure, e.g. 1,3,7.",
    )
    recurring_dunning_action = fields.Selection(
        selection=DUNNING_ACTION_SELECTION,
        string="After the Last Retry",
        default="none",
        required=True,
    )
    recurring_dunning_close_reason_id = fields.Many2one(
        comodel_name="recurring.contract.close.reason",
        string="Close Reason (Unpaid)",
    )
    recurring_unpaid_reminder_days = fields.Char(
        string="Unpaid Reminder Days",
        help="Days after the due date on which customers without a saved "
        "payment method are reminded of an unpaid invoice, e.g. 7,14. Empty: "
        "no reminder.",
    )
    recurring_unpaid_action = fields.Selection(
        selection=DUNNING_ACTION_SELECTION,
        string="Unpaid Invoice Action",
        default="none",
        required=True,
    )
    recurring_unpaid_action_days = fields.Integer(
        string="Unpaid Action After (Days)",
        default=30,
        help="Days after the due date after which the action above applies to "
        "the contract of an unpaid invoice.",
    )

    @api.constrains("recurring_retry_days", "recurring_unpaid_reminder_days")
    def _check_recurring_dunning_days(self):
        for company in self:
            for text in (
                company.recurring_retry_days,
                company.recurring_unpaid_reminder_days,
            ):
                try:
                    dunning.parse_days(text)
                except ValueError as error:
                    raise ValidationError(
                        self.env._(
                            "Days are whole numbers of at least 1 separated by "
                            "commas, e.g. 1,3,7 (not %(value)s).",
                            value=error.args[0],
                        )
                    ) from error
