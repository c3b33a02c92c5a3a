# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model
    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        # The product picker of a contract line (its field's context sets the
        # key) lists recurring products first: they are what a contract is
        # usually made of. Odoo's name_search searches without an order.
        if self.env.context.get("recurring_products_first") and not order:
            order = f"recurring_ok desc, {self._order}"
        return super().search_fetch(
            domain, field_names, offset=offset, limit=limit, order=order
        )
