# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    recurring_contract_ids = fields.One2many(
        comodel_name="recurring.contract",
        inverse_name="sale_order_id",
        string="Recurring Contracts",
    )
    recurring_contract_count = fields.Integer(
        string="Contracts", compute="_compute_recurring_contract_count"
    )

    def _compute_recurring_contract_count(self):
        for order in self:
            order.recurring_contract_count = len(order.recurring_contract_ids)

    def action_confirm(self):
        result = super().action_confirm()
        self._create_recurring_contracts()
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        self._cancel_recurring_contracts()
        return result

    def _cancel_recurring_contracts(self):
        """A cancelled order stops its contracts: those that never served a
        day (drafts, and contracts with nothing billed cancelled on or before
        their first day) are deleted, so they bill nothing; the running and
        paused ones are closed on the cancel date, with the reason "Sale
        order cancelled"."""
        # sudo: cancelling the order decides for its contracts, whoever they
        # are assigned to (a salesperson may see only their own), and
        # salespeople may not delete contracts otherwise. Archived contracts
        # too: unarchived, they would bill again.
        contracts = self.sudo().with_context(active_test=False).recurring_contract_ids
        never_served = contracts.filtered(
            lambda c: c.state == "draft" or c._is_never_served()
        )
        never_served.unlink()
        to_close = (contracts - never_served).filtered(
            lambda c: c.state in ("running", "paused")
        )
        if not to_close:
            return
        reason = self.env.ref(
            "recurring_billing.close_reason_sale_order_cancelled",
            raise_if_not_found=False,
        )
        # Each on its company's today. The customer is told by the order's
        # own cancellation (Odoo's cancel dialog offers its email), not twice.
        to_close.action_close(reason=reason, notify=False)

    def _create_recurring_contracts(self):
        """One running contract per recurrence found on the order."""
        Contract = self.env["recurring.contract"]
        for order in self:
            lines = order.order_line.filtered(
                lambda line: line.recurring_ok
                and not line.display_type
                and not line.recurring_contract_line_id
            )
            groups = lines.grouped(
                lambda line: (
                    line.product_id.recurring_rule_type or "monthly",
                    line.product_id.recurring_interval or 1,
                )
            )
            for (rule_type, interval), group in groups.items():
                contract = Contract.create(
                    order._prepare_recurring_contract_vals(rule_type, interval, group)
                )
                for so_line, contract_line in zip(
                    group, contract.line_ids, strict=True
                ):
                    so_line.recurring_contract_line_id = contract_line
                contract.action_start()
                contract.message_post_with_source(
                    "mail.message_origin_link",
                    render_values={"self": contract, "origin": order},
                    subtype_xmlid="mail.mt_note",
                )
        return True

    def _prepare_recurring_contract_vals(self, rule_type, interval, lines):
        self.ensure_one()
        return {
            "partner_id": self.partner_invoice_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "user_id": self.user_id.id,
            "payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "sale_order_id": self.id,
            "date_start": fields.Date.to_date(self.commitment_date)
            or self.company_id._get_recurring_today(),
            "recurring_rule_type": rule_type,
            "recurring_interval": interval,
            "note": self.note,
            "line_ids": [
                fields.Command.create(line._prepare_recurring_contract_line_vals())
                for line in lines.sorted("sequence")
            ],
        }

    def action_view_recurring_contracts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "recurring_billing.action_recurring_contract"
        )
        if len(self.recurring_contract_ids) == 1:
            action.update(
                view_mode="form",
                views=[(False, "form")],
                res_id=self.recurring_contract_ids.id,
            )
        else:
            action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _get_invoiceable_lines(self, final=False):
        lines = super()._get_invoiceable_lines(final=final)
        return lines.filtered(lambda line: not line.recurring_contract_line_id)
