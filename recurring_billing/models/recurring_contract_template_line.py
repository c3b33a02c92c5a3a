# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class RecurringContractTemplateLine(models.Model):
    _name = "recurring.contract.template.line"
    _inherit = "recurring.contract.line.mixin"
    _description = "Recurring Contract Template Line"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one(
        comodel_name="recurring.contract.template",
        required=True,
        ondelete="cascade",
        index=True,
    )

    def _get_recurrence_document(self):
        return self.template_id

    def _prepare_contract_line_vals(self):
        self.ensure_one()
        vals = {
            "sequence": self.sequence,
            "display_type": self.display_type,
            "name": self.name,
        }
        if not self.display_type:
            vals.update(
                product_id=self.product_id.id,
                quantity=self.quantity,
                price_unit=self.price_unit,
                discount=self.discount,
                quantity_type=self.quantity_type,
                usage_aggregation=self.usage_aggregation,
                usage_included=self.usage_included,
                usage_price_mode=self.usage_price_mode,
                usage_tiers=self.usage_tiers,
                usage_minimum=self.usage_minimum,
            )
        return vals
