# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class RecurringContractSuspension(models.Model):
    """A span of days a contract does not bill: a pause, or the time it was
    closed before a renewal. The schedule core leaves these days out of every
    period (``core/schedule.billing_share``): a period wholly inside is
    skipped, a period partly inside bills the days used (by days when the
    contract prorates)."""

    _name = "recurring.contract.suspension"
    _description = "Contract Suspension"
    _order = "contract_id, date_start"

    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="contract_id.company_id", store=True)
    date_start = fields.Date(string="From", required=True)
    date_end = fields.Date(
        string="To", help="Last day not billed. Empty while the contract is paused."
    )
    reason = fields.Selection(
        selection=[("pause", "Paused"), ("closed", "Closed before a renewal")],
        required=True,
        default="pause",
    )

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for suspension in self:
            if suspension.date_end and suspension.date_end < suspension.date_start:
                raise ValidationError(_("A suspension cannot end before it starts."))
