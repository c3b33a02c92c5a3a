# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class RecurringContractTemplate(models.Model):
    """A ready-made contract: its lines and recurrence fill a new contract."""

    _name = "recurring.contract.template"
    _inherit = ["recurring.billing.terms.mixin", "recurring.indexation.mixin"]
    _description = "Recurring Contract Template"
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(comodel_name="res.company", index=True)
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
            "minimum_term_months": self.minimum_term_months,
            "notice_days": self.notice_days,
            "auto_renew": self.auto_renew,
            "renewal_months": self.renewal_months,
            "note": self.note,
            **self._prepare_indexation_vals(),
        }
