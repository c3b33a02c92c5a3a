# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date

from ..tools import compat
from ..tools.privileged import is_privileged_write, privileged_context

# An invoice's recurring state: set by the billing run (documents), the
# charging service and its notices only, never by a user (a retry date or a
# reminder count set by hand would reschedule a customer's charges).
RECURRING_STATE_FIELDS = (
    "recurring_charge_state",
    "recurring_charge_retry_date",
    "recurring_failure_to_notify",
    "recurring_documents_pending",
    "recurring_reminder_count",
)


class AccountMove(models.Model):
    _inherit = "account.move"

    recurring_contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        string="Recurring Contract",
        readonly=True,
        copy=False,
        index="btree_not_null",
        check_company=True,
    )
    recurring_period_id = fields.Many2one(
        comodel_name="recurring.contract.period",
        string="Billed Period",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    # Getting paid , written by recurring.payment.service only.
    recurring_charge_state = fields.Selection(
        selection=[
            ("pending", "Charge pending"),
            ("done", "Charged"),
            ("failing", "Charge failed"),
            ("given_up", "Charge abandoned"),
        ],
        string="Automatic Charge",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    recurring_charge_retry_date = fields.Date(
        string="Next Charge Retry", readonly=True, copy=False
    )
    recurring_failure_to_notify = fields.Boolean(
        string="Failed Charge Not Told Yet",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="A charge of this invoice failed and the customer has not been "
        "emailed yet: the next failure notice of its contract lists it (one "
        "email per contract and run, never one per invoice).",
    )
    recurring_payment_attempt_ids = fields.One2many(
        comodel_name="recurring.payment.attempt",
        inverse_name="invoice_id",
        string="Charge Attempts",
        readonly=True,
    )
    recurring_documents_pending = fields.Boolean(
        string="Official Documents Pending",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Posted without its official PDF yet: the scheduled action "
        "'Recurring Billing: official invoice documents' makes it, emailing "
        "nothing.",
    )
    recurring_reminder_count = fields.Integer(
        string="Unpaid Reminders Sent", readonly=True, copy=False
    )
    recurring_token_matches = fields.Boolean(
        string="Chargeable on the Contract's Payment Method",
        compute="_compute_recurring_token_matches",
        search="_search_recurring_token_matches",
        help="The contract's saved payment method belongs to this invoice's "
        "customer: after a change of customer, the former customer's "
        "invoices are never charged on the new customer's payment method.",
    )

    def _fetch_duplicate_reference(self, matching_states=("draft", "posted")):
        """Odoo takes two customer invoices of the same amount on the same
        day for duplicates: the invoices of a contract's catch-up are, each
        for its own period. Invoices of the same contract whose references
        name different periods are not duplicates of each other."""
        result = super()._fetch_duplicate_reference(matching_states=matching_states)
        for move, duplicates in list(result.items()):
            if not move.recurring_contract_id or not move.ref:
                continue
            result[move] = duplicates.filtered(
                lambda other, move=move: other.recurring_contract_id
                != move.recurring_contract_id
                or not other.ref
                or other.ref == move.ref
            )
        return {move: dups for move, dups in result.items() if dups}

    @api.depends(
        "commercial_partner_id",
        "recurring_contract_id.payment_token_id.partner_id.commercial_partner_id",
    )
    def _compute_recurring_token_matches(self):
        for move in self:
            # sudo: the token's owner only, read to compare customers.
            token = move.recurring_contract_id.payment_token_id.sudo()
            move.recurring_token_matches = bool(token) and (
                token.partner_id.commercial_partner_id == move.commercial_partner_id
            )

    def _search_recurring_token_matches(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Operation not supported"))
        # The subquery reads these columns behind the ORM's back.
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.env["payment.token"].flush_model(["partner_id"])
        self.env["recurring.contract"].flush_model(["payment_token_id"])
        self.flush_model(["commercial_partner_id", "recurring_contract_id"])
        matching = SQL(
            "(SELECT move.id FROM %(move)s move"
            " JOIN %(contract)s contract ON contract.id = move.recurring_contract_id"
            " JOIN %(token)s token ON token.id = contract.payment_token_id"
            " JOIN %(partner)s owner ON owner.id = token.partner_id"
            " WHERE owner.commercial_partner_id = move.commercial_partner_id)",
            move=SQL.identifier(self._table),
            contract=SQL.identifier(self.env["recurring.contract"]._table),
            token=SQL.identifier(self.env["payment.token"]._table),
            partner=SQL.identifier(self.env["res.partner"]._table),
        )
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", matching)]

    def _post(self, soft=True):
        """A contract's invoice or credit note posted, whatever its invoice
        action (the engine's "Post", a draft posted by hand): its official
        documents are queued. Odoo's portal serves the PDF made by
        ``account.move.send`` and a PROFORMA rendering when there is none;
        only "Post and send" went through it."""
        posted = super()._post(soft=soft)
        todo = posted.filtered(
            lambda move: move.recurring_contract_id
            and move.is_sale_document()
            and not move.invoice_pdf_report_id
        )
        if todo:
            todo._write_recurring_state({"recurring_documents_pending": True})
            cron = self.env.ref(
                "recurring_billing.ir_cron_official_documents",
                raise_if_not_found=False,
            )
            if cron:
                # sudo: the billing user may not read scheduled actions; only
                # this module's own one is triggered.
                cron.sudo()._trigger()
        return posted

    @api.model
    def _cron_recurring_official_documents(self, batch_size=50):
        """The scheduled action ``ir_cron_official_documents``: the official
        documents of the contracts' posted invoices and credit notes, after
        the billing transaction committed (rendering a PDF costs more than
        billing the invoice), in number order, by batches. Those Odoo's own
        sending holds (``sending_data``: "Post and send") are left to it."""
        domain = [
            ("recurring_documents_pending", "=", True),
            ("sending_data", "=", False),
        ]
        order = "company_id, journal_id, sequence_prefix, sequence_number, id"
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        done = 0
        while moves := self.search(domain, order=order, limit=batch_size):
            moves._generate_official_documents()
            done += len(moves)
            if in_cron:
                # ir.cron commits and calls again while some remain.
                compat.report_cron_progress(self.env, done, self.search_count(domain))
                break
        return done

    def _generate_official_documents(self):
        """Make the official PDF (and the EDI documents the localisation
        adds) of posted invoices through Odoo's own ``account.move.send``,
        as its send dialog does, with no sending method: nothing is emailed.
        A failure is written in the invoice's chatter by Odoo, as when
        sending; the invoice is not retried (send it by hand)."""
        todo = self.filtered(
            lambda move: move.state == "posted" and not move.invoice_pdf_report_id
        )
        for company, moves in todo.grouped("company_id").items():
            self.env["account.move.send"].with_company(
                company
            )._generate_and_send_invoices(
                moves, allow_raising=False, sending_methods=[]
            )
        self._write_recurring_state({"recurring_documents_pending": False})

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_recurring_links(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_recurring_links(vals)
        return super().write(vals)

    @api.model
    def _check_recurring_links(self, vals):
        """An invoice is linked to a ledger row only by the engine (deleting
        a linked draft gives its period back: a link made by hand would
        void a billed period), and to a contract only by a user who may
        write that contract."""
        if vals.get("recurring_period_id") and not is_privileged_write(self.env):
            raise UserError(
                _("Only the billing run links an invoice to a billed period.")
            )
        if set(RECURRING_STATE_FIELDS) & set(vals) and not is_privileged_write(
            self.env
        ):
            raise UserError(
                _(
                    "An invoice's automatic charge, reminders and official "
                    "documents are set by the billing and charging runs only."
                )
            )
        if vals.get("recurring_contract_id") and not self.env.su:
            self.env["recurring.contract"].browse(
                vals["recurring_contract_id"]
            ).check_access("write")

    def _write_recurring_state(self, vals):
        """The billing run's, the charging service's and its notices' own
        write of ``RECURRING_STATE_FIELDS``."""
        return self.with_context(**privileged_context()).write(vals)

    def unlink(self):
        """A contract's invoice deleted (a draft, or a cancelled one) gives
        its period back when no other live invoice of that period remains:
        the ledger row is voided and the next run bills the period once.
        Without this the row would stay "invoiced" with no invoice: never
        billed again, and neither voidable nor deletable."""
        # sudo: the ledger and the period's other invoices decide, whatever
        # the deleting user may read; the deletion itself is checked by
        # super() with the user's own rights.
        periods = self.sudo().recurring_period_id.filtered(
            lambda period: period.state == "invoiced"
        )
        result = super().unlink()
        if periods:
            periods.invalidate_recordset(["move_ids"])
            freed = periods.filtered(
                lambda period: not period.move_ids.filtered(
                    lambda move: move.state != "cancel"
                )
            )
            freed._set_ledger_state("voided")
            for period in freed:
                # A log, not a message_post: nobody needs an email for this.
                period.contract_id._message_log(
                    body=_(
                        "Invoice of the period %(start)s - %(end)s deleted: the "
                        "period will be billed again on the next run.",
                        start=format_date(self.env, period.date_start),
                        end=format_date(self.env, period.date_end),
                    )
                )
            # A contract that closed itself with that period (its last one)
            # runs again until the period is billed, then closes again.
            reopened = freed.contract_id.filtered(
                lambda c: c.state == "closed"
                and c.date_end
                and not c._is_fully_billed()
            )
            reopened._write_state({"state": "running"})
        return result

    def action_open_recurring_contract(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "recurring.contract",
            "view_mode": "form",
            "res_id": self.recurring_contract_id.id,
        }
