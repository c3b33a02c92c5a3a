# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import Command, models
from odoo.tools import format_date


class RecurringContract(models.Model):
    """The values the engine writes for a contract: its ledger rows, its
    invoices and adjustments (the ``_prepare_*`` hooks extensions override),
    and the period label each invoice line states."""

    _inherit = "recurring.contract"

    # -------------------------------------------------------------------------
    # VALUES OF THE LEDGER ROWS AND INVOICES
    # -------------------------------------------------------------------------

    def _prepare_period_vals(
        self, period, state="invoiced", amounts=None, kind="period"
    ):
        """Values of a ledger row; ``amounts`` ({line: amount}) is what it
        bills, kept to compute later adjustments."""
        self.ensure_one()
        return {
            "contract_id": self.id,
            "period_index": period.index,
            "date_start": period.date_start,
            "date_end": period.date_end,
            "state": state,
            "kind": kind,
            # Usage charges are never adjusted: only the fixed lines count.
            "billed_amounts": {
                str(line.id): amount for line, amount in (amounts or {}).items()
            },
        }

    def _prepare_invoice_vals(self, period, date_ref, amounts=None, usage=()):
        """Values of the invoice of one period: ``amounts`` ({line: amount})
        of the fixed lines, ``usage`` the usage charges. Hook for
        extensions."""
        self.ensure_one()
        if amounts is None:
            amounts = self._get_line_amounts(period)
        off_windows = self._get_off_windows()
        charges = defaultdict(list)
        for charge in usage:
            if charge.amount:
                charges[charge.line].append(charge)
        lines = []
        for line in self.line_ids:
            if line in amounts or (line.display_type and (amounts or charges)):
                lines.append(
                    line._prepare_invoice_line_vals(
                        period, amounts.get(line, 0.0), off_windows
                    )
                )
            lines += [
                line._prepare_usage_invoice_line_vals(charge)
                for charge in charges.get(line, ())
            ]
        return {
            **self._prepare_move_vals(
                "out_invoice", date_ref, [Command.create(vals) for vals in lines]
            ),
            **self._prepare_operation_date_vals(period, date_ref),
            # Each invoice names its period: the invoices of a catch-up, all
            # dated the same day, tell each other apart.
            "ref": self._get_period_reference(period),
        }

    def _get_period_reference(self, period):
        """'RC/2026/00001 - 2026-01-01 / 2026-01-31': the reference of the
        invoice of ``period``. ISO dates, in every language: Odoo numbers
        the invoices it posts together in the order of their references,
        which must then be the order of their periods (01/12/2025 sorts
        after 01/01/2026 as text)."""
        self.ensure_one()
        return "%s - %s / %s" % (
            self.name,
            period.date_start.isoformat(),
            period.date_end.isoformat(),
        )

    def _prepare_operation_date_vals(self, period, date_ref):
        """The operation date e-invoicing formats read (Odoo's
        ``delivery_date``: SII and TicketBAI ``FechaOperacion``, Facturae's
        operation date) when it is not the invoice date: the period's end,
        for a period over when it is invoiced (in arrears, or billed late).
        An invoice issued before its period ends is for a payment in advance,
        whose VAT is due when it is invoiced: no operation date."""
        if period.date_end < date_ref:
            return {"delivery_date": period.date_end}
        return {}

    def _prepare_adjustment_vals(self, period, differences, date_ref):
        """Values of the invoice (more is due) or credit note (less is due)
        adjusting a period already billed. Hook for extensions."""
        self.ensure_one()
        sign = 1 if sum(differences.values()) > 0 else -1
        lines = [
            Command.create(
                line._prepare_adjustment_line_vals(period, difference * sign)
            )
            for line, difference in differences.items()
        ]
        move_type = "out_invoice" if sign > 0 else "out_refund"
        return {
            **self._prepare_move_vals(move_type, date_ref, lines),
            **self._prepare_operation_date_vals(period, date_ref),
            **self._prepare_correction_vals(period, move_type),
        }

    def _prepare_move_vals(self, move_type, date_ref, line_commands):
        self.ensure_one()
        return {
            "move_type": move_type,
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "journal_id": self.journal_id.id,
            "currency_id": self.currency_id.id,
            "invoice_date": date_ref,
            "invoice_payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "invoice_user_id": self.user_id.id,
            "invoice_origin": self.name,
            "narration": self.note if not self.env.context.get("no_note") else False,
            "recurring_contract_id": self.id,
            "invoice_line_ids": line_commands,
        }

    def _get_period_label(self, period, lang_code=None, days=None, full=None):
        """'Period: 1 Jan 2026 - 31 Jan 2026', in the customer's language;
        with the days billed when they are not the whole period."""
        lang_code = lang_code or self.partner_id.lang
        env = self.with_context(lang=lang_code).env
        label = env._(
            "Period: %(start)s - %(end)s",
            start=format_date(env, period.date_start, lang_code=lang_code),
            end=format_date(env, period.date_end, lang_code=lang_code),
        )
        if days is not None:
            label += " " + env._(
                "(prorated: %(days)s of %(full)s days)",
                days=days,
                full=full or period.full_days,
            )
        return label
