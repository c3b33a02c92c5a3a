# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools import format_date


class RecurringContract(models.Model):
    """What an adjustment of a billed period corrects: the invoices it
    names, why, and for a credit note the invoice it reverses."""

    _inherit = "recurring.contract"

    def _get_corrected_invoices(self, period):
        """The posted invoices of ``period`` an adjustment corrects (the
        period's own and its earlier top-ups; cancelled ones never), oldest
        first."""
        self.ensure_one()
        rows = self.period_ids.filtered(
            lambda row: row.period_index == period.index and row.state == "invoiced"
        )
        return rows.move_ids.filtered(
            lambda move: move.state == "posted" and move.move_type == "out_invoice"
        ).sorted(lambda move: (move.invoice_date, move.id))

    def _get_adjustment_reason(self, period, lang_code):
        """Why a billed period is adjusted, in the customer's language: the
        close reason when the contract ends inside or before it, the pause
        when one cuts it, a change of the contract otherwise."""
        self.ensure_one()
        env = self.with_context(lang=lang_code).env
        if self.date_end and self.date_end <= period.date_end:
            return self.close_reason_id.with_env(env).name or env._(
                "contract ends on %(date)s",
                date=format_date(env, self.date_end, lang_code=lang_code),
            )
        pauses = [
            start
            for start, end in self._get_off_windows()
            if start <= period.date_end and (not end or end >= period.date_start)
        ]
        if pauses:
            return env._(
                "contract paused from %(date)s",
                date=format_date(env, min(pauses), lang_code=lang_code),
            )
        return env._(
            "contract changed for %(start)s - %(end)s",
            start=format_date(env, period.date_start, lang_code=lang_code),
            end=format_date(env, period.date_end, lang_code=lang_code),
        )

    def _prepare_correction_vals(self, period, move_type):
        """What an adjustment says it corrects, as Odoo's reversal wizard
        does: a reference naming the period's posted invoices (latest first)
        and the reason, and for a credit note the invoice it reverses
        (``reversed_entry_id``: the latest, which carries the period's
        current prices; e-invoicing formats list it as the corrected
        invoice, and posting reconciles the credit with it).

        One credit note per period, not one per invoice: a period has more
        than one posted invoice only after a top-up, and a top-up bills the
        difference on the same contract lines (the old price credited, the
        new one billed), so no share of a line's credit belongs to one
        invoice rather than the other; the reference names them all."""
        self.ensure_one()
        invoices = self._get_corrected_invoices(period)
        if not invoices:
            return {}
        lang_code = self.partner_id.lang or self.env.lang
        env = self.with_context(lang=lang_code).env
        names = ", ".join(move.name for move in reversed(invoices))
        reason = self._get_adjustment_reason(period, lang_code)
        # The customer the period was invoiced to, not whoever holds the
        # contract now: after a change of customer, the former customer's
        # period is corrected on their own account.
        partner = {"partner_id": invoices[-1].partner_id.id}
        if move_type == "out_refund":
            return {
                **partner,
                "ref": env._(
                    "Reversal of: %(move_name)s, %(reason)s",
                    move_name=names,
                    reason=reason,
                ),
                "reversed_entry_id": invoices[-1].id,
            }
        return {
            **partner,
            "ref": env._(
                "Adjustment of: %(move_name)s, %(reason)s",
                move_name=names,
                reason=reason,
            ),
        }
