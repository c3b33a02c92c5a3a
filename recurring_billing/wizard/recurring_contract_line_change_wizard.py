# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError


class RecurringContractLineChangeWizard(models.TransientModel):
    """Change what a line bills from a date: the line ends the day before
    and a new one starts that day. A period already billed is adjusted by
    the next run (an invoice for more, a credit note for less)."""

    _name = "recurring.contract.line.change.wizard"
    _description = "Change a Contract Line from a Date"

    line_id = fields.Many2one(
        comodel_name="recurring.contract.line",
        required=True,
        default=lambda self: self.env.context.get("active_id"),
    )
    currency_id = fields.Many2one(related="line_id.currency_id")
    date_effective = fields.Date(
        string="From",
        required=True,
        default=lambda self: self._default_today(),
        help="First day billed at the new values.",
    )
    quantity = fields.Float(digits="Product Unit of Measure", required=True)
    price_unit = fields.Float(string="Unit Price", digits="Product Price")
    discount = fields.Float(string="Discount (%)", digits="Discount")
    notify_customer = fields.Boolean(
        string="Email the Customer",
        default=True,
        help="Email the customer what changes from this date, in their language "
        "(shown in the portal's history).",
    )

    @api.model
    def _default_today(self):
        """The company's date of the line's contract (never the user's)."""
        line = self.env["recurring.contract.line"].browse(
            self.env.context.get("active_id")
        )
        return (line.contract_id.company_id or self.env.company)._get_recurring_today()

    @api.onchange("line_id")
    def _onchange_line_id(self):
        for wizard in self:
            line = wizard.line_id
            wizard.quantity = line.quantity
            wizard.price_unit = line.price_unit
            wizard.discount = line.discount

    def action_change(self):
        self.ensure_one()
        line = self.line_id
        if self.date_effective <= (line.date_start or line.contract_id.date_start):
            raise UserError(
                _("A change takes effect after the line starts: pick a later date.")
            )
        vals = {
            "quantity": self.quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
        }
        contract = line.contract_id
        new_line = line._action_change(self.date_effective, vals)
        if self.notify_customer and contract.state != "draft":
            # Said once the change is made: the lines and adjustments it left.
            contract._send_customer_notice(
                "recurring_billing.mail_template_contract_price_change",
                contract._get_customer_summaries(
                    lambda c: c._get_line_change_summary(new_line)
                ),
            )
        return {"type": "ir.actions.act_window_close"}
