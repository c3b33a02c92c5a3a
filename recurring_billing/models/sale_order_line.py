# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from ..tools import compat


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    recurring_ok = fields.Boolean(related="product_id.recurring_ok")
    recurring_contract_line_id = fields.Many2one(
        comodel_name="recurring.contract.line",
        string="Contract Line",
        copy=False,
        readonly=True,
        index="btree_not_null",
    )

    @api.depends("recurring_contract_line_id")
    def _compute_qty_to_invoice(self):
        # A line billed by its contract is never invoiced by the order too.
        res = super()._compute_qty_to_invoice()
        for line in self.filtered("recurring_contract_line_id"):
            line.qty_to_invoice = 0.0
        return res

    @api.depends("recurring_contract_line_id")
    def _compute_invoice_status(self):
        res = super()._compute_invoice_status()
        for line in self.filtered("recurring_contract_line_id"):
            line.invoice_status = "no"
        return res

    def _prepare_recurring_contract_line_vals(self):
        self.ensure_one()
        return {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "quantity": self.product_uom_qty,
            "product_uom_id": self[compat.SALE_LINE_UOM_FIELD].id,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "tax_ids": [fields.Command.set(self[compat.SALE_LINE_TAXES_FIELD].ids)],
            "analytic_distribution": self.analytic_distribution,
        }
