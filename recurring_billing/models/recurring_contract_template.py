# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .selections import (
    INVOICE_ACTION_SELECTION,
    INVOICING_MODE_SELECTION,
    RULE_TYPE_SELECTION,
)


class RecurringContractTemplate(models.Model):
    """A ready-made contract: its lines and recurrence fill a new contract."""

    _name = "recurring.contract.template"
    _description = "Recurring Contract Template"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(comodel_name="res.company", index=True)
    recurring_interval = fields.Integer(string="Repeat Every", default=1, required=True)
    recurring_rule_type = fields.Selection(
        selection=RULE_TYPE_SELECTION,
        string="Recurrence",
        default="monthly",
        required=True,
    )
    invoicing_mode = fields.Selection(
        selection=INVOICING_MODE_SELECTION,
        string="Invoicing",
        default="advance",
        required=True,
    )
    invoice_action = fields.Selection(
        selection=INVOICE_ACTION_SELECTION,
        string="Invoice Action",
        default="post",
        required=True,
    )
    prorate = fields.Boolean()
    duration_months = fields.Integer(
        string="Duration (months)",
        help="Fills the end date of new contracts; 0 for no end date.",
    )
    note = fields.Html(string="Terms and Conditions", translate=True)
    line_ids = fields.One2many(
        comodel_name="recurring.contract.template.line",
        inverse_name="template_id",
        string="Lines",
        copy=True,
    )

    @api.constrains("recurring_interval")
    def _check_recurring_interval(self):
        if any(template.recurring_interval < 1 for template in self):
            raise ValidationError(_("The recurrence interval must be at least 1."))

    def _prepare_contract_vals(self):
        """Values a template gives a contract. Hook for extensions."""
        self.ensure_one()
        return {
            "template_id": self.id,
            "recurring_interval": self.recurring_interval,
            "recurring_rule_type": self.recurring_rule_type,
            "invoicing_mode": self.invoicing_mode,
            "invoice_action": self.invoice_action,
            "prorate": self.prorate,
            "note": self.note,
        }
