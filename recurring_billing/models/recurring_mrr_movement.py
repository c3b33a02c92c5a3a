# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class RecurringMrrMovement(models.Model):
    """One change of a contract's MRR, on the day it takes effect: ``new``
    on its start, ``expansion``/``contraction`` on a line change,
    ``churn`` on a close or a pause, ``reactivation`` on a resume or a
    renewal of a closed contract.

    Written only from the contract's life (``_sync_contracts``), never by
    hand. Amounts are in the company's currency, at the rate of the
    movement's date; the MRR after the movement in the contract's own
    currency is kept too, so that a later rate does not rewrite history.
    """

    _name = "recurring.mrr.movement"
    _description = "MRR Movement"
    _order = "date desc, id desc"
    _rec_name = "contract_id"

    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        string="Contract",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    date = fields.Date(required=True, readonly=True, index=True)
    kind = fields.Selection(
        selection=[
            ("new", "New"),
            ("expansion", "Expansion"),
            ("contraction", "Contraction"),
            ("churn", "Churn"),
            ("reactivation", "Reactivation"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one(
        related="contract_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    mrr_change = fields.Monetary(
        string="MRR Change",
        readonly=True,
        help="How much the MRR changed, in the company's currency at the rate "
        "of the movement's date.",
    )
    mrr_after = fields.Monetary(
        string="MRR After",
        readonly=True,
        help="The contract's MRR after the movement, in the company's currency.",
    )
    contract_currency_id = fields.Many2one(
        related="contract_id.currency_id", string="Contract Currency"
    )
    mrr_after_currency = fields.Monetary(
        string="MRR After (Contract Currency)",
        currency_field="contract_currency_id",
        readonly=True,
    )
    # The customer of the day of the movement, written with it: a contract
    # handed to another customer later does not move its past.
    partner_id = fields.Many2one(
        comodel_name="res.partner",
        string="Customer",
        readonly=True,
        index=True,
    )
    # Stored copies of the contract's, to group the reports by them.
    user_id = fields.Many2one(
        related="contract_id.user_id", string="Salesperson", store=True
    )
    template_id = fields.Many2one(
        related="contract_id.template_id", string="Template", store=True
    )

    @api.model
    def _sync_contracts(self, contracts):
        """Make the movements of ``contracts`` match their MRR timeline
        (``schedule.mrr_timeline``): the movements from the first day that
        differs are replaced, those before it stand (with the rates they were
        written at). Idempotent."""
        contracts.check_access("write")
        # sudo: movements are written only here, for contracts the user may
        # write (checked above); nobody writes them by hand.
        Movement = self.sudo()
        existing = Movement.search(
            [("contract_id", "in", contracts.ids)], order="date, id"
        ).grouped("contract_id")
        to_unlink = Movement.browse()
        vals_list = []
        for contract in contracts:
            old = existing.get(contract.sudo(), Movement.browse())
            unlink, vals = self._plan_contract(contract, old)
            to_unlink |= unlink
            vals_list += vals
        to_unlink.unlink()
        return Movement.create(vals_list)

    @api.model
    def _plan_contract(self, contract, old):
        """(movements to delete, values to create) for one contract: the
        movements that match its plan (``_get_mrr_movement_plan``) from the
        first stand, the rest are replaced."""
        plan = contract._get_mrr_movement_plan()
        keep = 0
        for (day, kind, customer, after), movement in zip(plan, old, strict=False):
            if (
                movement.date,
                movement.kind,
                movement.partner_id.id,
                movement.mrr_after_currency,
            ) != (day, kind, customer, after):
                break
            keep += 1
        before = plan[keep - 1][3] if keep else 0.0
        before_company = old[keep - 1].mrr_after if keep else 0.0
        vals_list = []
        for day, kind, customer, after in plan[keep:]:
            change = self._to_company_currency(contract, after - before, day)
            if not after:
                # Churn takes the MRR to zero exactly, whatever the rates did
                # since the movements before it.
                change = -before_company
            before_company = contract.company_id.currency_id.round(
                before_company + change
            )
            vals_list.append(
                {
                    "contract_id": contract.id,
                    "partner_id": customer,
                    "date": day,
                    "kind": kind,
                    "mrr_change": change,
                    "mrr_after": before_company,
                    "mrr_after_currency": after,
                }
            )
            before = after
        return old[keep:], vals_list

    @api.model
    def _to_company_currency(self, contract, amount, day):
        company = contract.company_id
        return contract.currency_id._convert(amount, company.currency_id, company, day)
