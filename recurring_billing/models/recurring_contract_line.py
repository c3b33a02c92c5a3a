# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.tools import float_round


class RecurringContractLine(models.Model):
    _name = "recurring.contract.line"
    _inherit = "recurring.contract.line.mixin"
    _description = "Recurring Contract Line"
    _order = "contract_id, sequence, id"
    _check_company_auto = True

    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="contract_id.company_id", store=True)
    currency_id = fields.Many2one(related="contract_id.currency_id")
    product_id = fields.Many2one(check_company=True)
    name = fields.Text(required=True)
    quantity = fields.Float(required=True)
    product_uom_id = fields.Many2one(
        comodel_name="uom.uom",
        string="Unit",
        compute="_compute_product_uom_id",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('category_id', '=', product_uom_category_id)]",
    )
    product_uom_category_id = fields.Many2one(related="product_id.uom_id.category_id")
    tax_ids = fields.Many2many(
        comodel_name="account.tax",
        string="Taxes",
        compute="_compute_tax_ids",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
    )
    analytic_distribution = fields.Json(string="Analytic")
    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_amounts", store=True
    )
    price_total = fields.Monetary(
        string="Total", compute="_compute_amounts", store=True
    )

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    def _get_description_lang(self):
        return self.contract_id.partner_id.lang or super()._get_description_lang()

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            line.product_uom_id = line.product_id.uom_id

    @api.depends("product_id", "company_id")
    def _compute_tax_ids(self):
        for line in self:
            company = line.company_id or self.env.company
            line.tax_ids = line.product_id.taxes_id._filter_taxes_by_company(company)

    @api.depends("quantity", "price_unit", "discount", "tax_ids", "currency_id")
    def _compute_amounts(self):
        AccountTax = self.env["account.tax"]
        for line in self:
            if line.display_type:
                line.price_subtotal = line.price_total = 0.0
                continue
            base_line = AccountTax._prepare_base_line_for_taxes_computation(
                line,
                price_unit=line.price_unit,
                quantity=line.quantity,
                discount=line.discount,
                currency_id=line.currency_id or line.contract_id.currency_id,
                product_id=line.product_id,
                tax_ids=line.tax_ids,
            )
            AccountTax._add_tax_details_in_base_line(
                base_line, line.company_id or self.env.company
            )
            line.price_subtotal = base_line["tax_details"][
                "raw_total_excluded_currency"
            ]
            line.price_total = base_line["tax_details"]["raw_total_included_currency"]
            if line.currency_id:
                line.price_subtotal = line.currency_id.round(line.price_subtotal)
                line.price_total = line.currency_id.round(line.price_total)

    # -------------------------------------------------------------------------
    # BILLING
    # -------------------------------------------------------------------------

    def _get_income_account(self):
        """The income account Odoo will book the line on, after the contract's
        fiscal position: the product's (or its category's), else the
        journal's default account."""
        self.ensure_one()
        contract = self.contract_id
        accounts = self.product_id.product_tmpl_id.with_company(
            contract.company_id
        ).get_product_accounts(fiscal_pos=contract.fiscal_position_id)
        return accounts["income"] or contract.journal_id.default_account_id

    def _get_prorated_price_unit(self, factor):
        if factor == 1.0:
            return self.price_unit
        digits = self.env["decimal.precision"].precision_get("Product Price")
        return float_round(self.price_unit * factor, precision_digits=digits)

    def _prepare_invoice_line_vals(self, period, factor=1.0):
        """Values of the invoice line for one period. Hook for extensions."""
        self.ensure_one()
        contract = self.contract_id
        if self.display_type:
            return {
                "display_type": self.display_type,
                "name": self.name,
                "sequence": self.sequence,
            }
        return {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": f"{self.name}\n{contract._get_period_label(period)}",
            "quantity": self.quantity,
            "product_uom_id": self.product_uom_id.id,
            "price_unit": self._get_prorated_price_unit(factor),
            "discount": self.discount,
            "account_id": self._get_income_account().id,
            "tax_ids": [
                Command.set(contract.fiscal_position_id.map_tax(self.tax_ids).ids)
            ],
            "analytic_distribution": self.analytic_distribution,
            "recurring_date_start": period.date_start,
            "recurring_date_end": period.date_end,
        }
