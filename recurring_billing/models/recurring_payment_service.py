# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from markupsafe import Markup

from odoo import Command, _, api, fields, models

from ..core import dunning
from ..tools import compat, locking
from ..tools.concurrency import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

OPEN_PAYMENT_STATES = ("not_paid", "partial")
# A payment of the invoice under way elsewhere (the customer paying in the
# portal): charging it too would be a second payment.
BUSY_TRANSACTION_DOMAIN = [
    "|",
    ("state", "in", ("pending", "authorized")),
    "&",
    ("state", "=", "done"),
    ("is_post_processed", "=", False),
]


class RecurringPaymentService(models.AbstractModel):
    """Getting paid: charges the posted invoices of contracts on their saved
    payment method, retries failures, and applies the dunning rules.

    Shaped like recurring.billing.engine: entry points call short named
    steps. Charging goes through Odoo's own flow: a ``payment.transaction``
    with the token (``operation='offline'``), ``_send_payment_request``, and
    Odoo's post-processing, which creates the ``account.payment`` and
    reconciles it with the invoice when the transaction is done.

    Exactly once: the attempt (``recurring.payment.attempt``) is written in
    the transaction that creates the payment transaction, with the invoice
    row locked; a unique index allows one pending or paid attempt per
    invoice. Under ir.cron that transaction commits *before* the provider is
    called: a crash after it leaves a pending attempt (looked at by a human),
    never a second charge.
    """

    _name = "recurring.payment.service"
    _description = "Recurring Billing Payment Service"

    # -------------------------------------------------------------------------
    # ENTRY POINTS
    # -------------------------------------------------------------------------

    @api.model
    def _run_scheduled(self, date_ref=None, notify=True):
        """Charge what is due (one batch per call under ir.cron, which calls
        again; everything when called from code, without commit), then apply
        the unpaid-invoice policy. Returns the number of invoices charged."""
        self = self.env["recurring.billing.engine"]._get_billing_env().env[self._name]  # noqa: PLW0642
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        self._reopen_reversed_charges(date_ref)
        self._resend_unanswered(in_cron)
        done, seen = 0, set()
        while invoices := self._claim_invoices(date_ref, in_cron):
            if seen.issuperset(invoices.ids):
                # Claimed again unchanged (an unexpected error left them as
                # they were): the next run tries them again, never a loop.
                break
            seen.update(invoices.ids)
            done += len(self._charge_batch(invoices, date_ref, in_cron))
            if in_cron:
                break
        self._clear_paid_failures()
        self._send_failure_notices()
        remaining = self.env["account.move"].search_count(
            self._get_invoices_to_charge_domain(date_ref)
        )
        if not remaining:
            self._apply_unpaid_policy(date_ref)
        if notify:
            compat.report_cron_progress(self.env, done, remaining)
        if in_cron and remaining:
            self._trigger_charging()  # more than one batch: again at once
        return done

    @api.model
    def _trigger_charging(self):
        """Run the charging scheduled action as soon as the current
        transaction commits (the trigger is committed with it)."""
        cron = self.env.ref(
            "recurring_billing.ir_cron_charge_invoices", raise_if_not_found=False
        )
        if cron:
            # sudo: the billing user may not read scheduled actions; only
            # this module's own one is triggered.
            cron.sudo()._trigger()

    @api.model
    def _charge_invoices(self, invoices, date_ref=None):
        """Charge ``invoices`` now (those due and not locked by another
        transaction), without committing. Returns the attempts made."""
        self = self.env["recurring.billing.engine"]._get_billing_env().env[self._name]  # noqa: PLW0642
        invoices = invoices.with_env(self.env).filtered_domain(
            self._get_invoices_to_charge_domain(date_ref)
        )
        locked = self._lock_invoices(invoices)
        attempts = self._charge_batch(locked, date_ref, in_cron=False)
        self._send_failure_notices(locked)
        return attempts

    # -------------------------------------------------------------------------
    # CLAIM
    # -------------------------------------------------------------------------

    @api.model
    def _get_invoices_to_charge_domain(self, date_ref=None):
        """Posted, unpaid customer invoices of contracts with a saved payment
        method *of the invoice's own customer* (after a change of customer,
        the former customer's invoices stay theirs), never charged, or failed
        with a retry due on their company's date; never one with a payment
        under way elsewhere (the customer paying it in the portal: a
        transaction pending, authorized, or done and not yet reconciled),
        which a charge would make a second payment of. A token that can no
        longer charge is not filtered out here: ``_check_charge`` flags it."""
        retry_due = compat.domain_or(
            [
                [
                    ("company_id", "=", company.id),
                    (
                        "recurring_charge_retry_date",
                        "<=",
                        date_ref or company._get_recurring_today(),
                    ),
                ]
                for company in self.env.companies
            ]
        )
        return [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", OPEN_PAYMENT_STATES),
            ("recurring_contract_id.payment_token_id", "!=", False),
            ("recurring_token_matches", "=", True),
            ("transaction_ids", "not any", BUSY_TRANSACTION_DOMAIN),
            "|",
            ("recurring_charge_state", "=", False),
            "&",
            ("recurring_charge_state", "=", "failing"),
            *retry_due,
        ]

    @api.model
    def _claim_invoices(self, date_ref, in_cron):
        """Lock the next batch of invoices to charge; rows another worker
        holds are skipped. A row another transaction changed since our
        snapshot raises a serialization failure: under ir.cron the batch is
        given up for this call (the next call sees the change)."""
        Move = self.env["account.move"]
        try:
            with self.env.cr.savepoint(flush=False):
                return locking.claim(
                    Move,
                    self._get_invoices_to_charge_domain(date_ref),
                    limit=self._get_batch_size(),
                )
        except CONCURRENCY_ERRORS:
            if not in_cron:
                raise
            return Move

    @api.model
    def _lock_invoices(self, invoices):
        """Lock ``invoices``; returns those no other transaction holds or
        changed (they are being charged there)."""
        try:
            return locking.lock(invoices)
        except CONCURRENCY_ERRORS:
            return invoices.browse()

    @api.model
    def _resend_unanswered(self, in_cron):
        """Attempts whose worker died after saving them and before the
        provider answered: their transaction is still a draft. The *same*
        transaction is sent again (providers deduplicate on its reference:
        Odoo's Stripe sends it as the idempotency key), never a new one.
        Only after ``recurring_billing.charge_resend_minutes`` (default 10),
        so that a worker still sending is left alone; rows another worker
        holds are skipped."""
        minutes = int(
            self.env["ir.config_parameter"]
            .sudo()  # technical setting, read-only use
            .get_param("recurring_billing.charge_resend_minutes", 10)
        )
        Attempt = self.env["recurring.payment.attempt"]
        try:
            with self.env.cr.savepoint(flush=False):
                attempts = locking.claim(
                    Attempt,
                    [
                        ("state", "=", "pending"),
                        ("transaction_id.state", "=", "draft"),
                        (
                            "create_date",
                            "<=",
                            fields.Datetime.subtract(
                                fields.Datetime.now(), minutes=minutes
                            ),
                        ),
                    ],
                    limit=self._get_batch_size(),
                )
        except CONCURRENCY_ERRORS:
            if not in_cron:
                raise
            return
        for attempt in attempts:
            self._resend_attempt(attempt)
            if in_cron:
                self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _resend_attempt(self, attempt):
        """Send an unanswered charge again only if it still stands: the
        invoice may have been paid meanwhile (a bank transfer registered), be
        under way elsewhere, owe less (a payment, a credit note), or its token
        may no longer charge. Anything else than the very same charge: the
        draft transaction is cancelled, never sent."""
        transaction = attempt.transaction_id.sudo()  # see _create_attempt
        invoice = attempt.invoice_id
        amount, blocker = self._check_charge(invoice, attempt.token_id, transaction)
        if blocker is None and not invoice.currency_id.compare_amounts(
            amount, transaction.amount
        ):
            _logger.info("Charge %s unanswered: sent again", transaction.reference)
            self._charge_invoice(attempt)
            return
        if blocker is None:
            blocker = (
                "amount",
                _(
                    "The invoice now owes %(amount)s: the charge is made again "
                    "for that amount.",
                    amount=amount,
                ),
            )
        kind, message = blocker
        _logger.info("Charge %s unanswered: not sent (%s)", transaction.reference, kind)
        self._write_attempts(
            attempt,
            {"state": "error" if kind == "token" else "cancel", "message": message},
        )
        transaction._set_canceled(state_message=message)
        if kind == "token":
            self._schedule_retry(attempt)
        else:
            # Charged again from scratch by the claim (this very run when
            # something is still owed), or left alone when paid.
            invoice._write_recurring_state(
                {"recurring_charge_state": False, "recurring_charge_retry_date": False}
            )
            self._clear_payment_failing(attempt.contract_id)

    @api.model
    def _get_batch_size(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()  # technical setting, read-only use
            .get_param("recurring_billing.charge_batch_size", 50)
        )

    # -------------------------------------------------------------------------
    # ONE BATCH
    # -------------------------------------------------------------------------

    @api.model
    def _charge_batch(self, invoices, date_ref, in_cron):
        """Record an attempt and create its transaction for each locked
        invoice (one transaction, committed under ir.cron before any provider
        call), then send each request on its own: one failing provider call
        never stops the others. An invoice that cannot be charged (see
        ``_check_charge``) gets no transaction."""
        attempts = self.env["recurring.payment.attempt"]
        for invoice in invoices:
            day = date_ref or invoice.company_id._get_recurring_today()
            try:
                with self.env.cr.savepoint():
                    attempts |= self._create_attempt(invoice, day)
            except CONCURRENCY_ERRORS:
                raise
            except Exception:  # noqa: BLE001 - one invoice must not stop the others
                _logger.exception("Charge of %s not created", invoice.name)
        if in_cron:
            # The attempts are saved for good before any provider is called:
            # a crash from here on leaves them pending, never charged twice.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        for attempt in attempts.filtered(lambda a: a.state == "pending"):
            self._charge_invoice(attempt)
            if in_cron:
                # Each answer is kept, whatever happens to the next call.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return attempts

    @api.model
    def _create_attempt(self, invoice, date_ref):
        """The attempt and its payment transaction, in one savepoint: the
        unique index refuses a second live attempt of the invoice. Nothing
        is created unless ``_check_charge`` allows it: a token that cannot
        charge is a failed attempt without transaction (flagged, retried),
        an invoice with nothing left to charge gets no attempt."""
        contract = invoice.recurring_contract_id
        token = contract.payment_token_id
        amount, blocker = self._check_charge(invoice, token)
        if blocker:
            return self._skip_charge(invoice, token, blocker, date_ref)
        # sudo: payment transactions and providers are for administrators
        # and invoicing users; the billing user charges only the token saved
        # on the contract, checked above against the invoice's customer, for
        # what the invoice still owes.
        token_sudo = token.sudo()
        Transaction = self.env["payment.transaction"].sudo()
        with self.env.cr.savepoint():
            transaction = Transaction.create(
                {
                    "provider_id": token_sudo.provider_id.id,
                    "payment_method_id": token_sudo.payment_method_id.id,
                    "reference": Transaction._compute_reference(
                        token_sudo.provider_id.code, prefix=invoice.name
                    ),
                    "amount": amount,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "token_id": token.id,
                    "operation": "offline",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
            attempt = self._create_attempt_row(
                self._prepare_attempt_vals(invoice, token, amount, date_ref)
                | {"transaction_id": transaction.id}
            )
            invoice._write_recurring_state(
                {
                    "recurring_charge_state": "pending",
                    "recurring_charge_retry_date": False,
                }
            )
        return attempt

    @api.model
    def _create_attempt_row(self, vals):
        """Record a charge attempt. sudo: the attempts are this service's own
        rows, read-only for users as the ledger is (one live attempt per
        invoice is what refuses a second charge); the caller locked the
        invoice and checked the charge. The row is returned without sudo."""
        return self.env["recurring.payment.attempt"].sudo().create(vals).sudo(False)

    @api.model
    def _write_attempts(self, attempts, vals):
        """Record what became of ``attempts``. sudo: as ``_create_attempt_row``,
        once the caller read the answer of their payment transaction."""
        attempts.sudo().write(vals)

    @api.model
    def _prepare_attempt_vals(self, invoice, token, amount, date_ref):
        return {
            "invoice_id": invoice.id,
            "contract_id": invoice.recurring_contract_id.id,
            "company_id": invoice.company_id.id,
            "token_id": token.id,
            "amount": amount,
            "currency_id": invoice.currency_id.id,
            "date": date_ref,
        }

    @api.model
    def _skip_charge(self, invoice, token, blocker, date_ref):
        """What an invoice ``_check_charge`` refused becomes. A token that
        cannot charge is a failed charge of the contract, without any
        transaction: flagged, the customer asked for a new payment method,
        retried on the schedule (a new token saved meanwhile is charged).
        Nothing owed: its failed charges, if any, stop. Anything else (under
        way elsewhere, another customer's token): left as it is."""
        kind, message = blocker
        Attempt = self.env["recurring.payment.attempt"]
        if kind == "token":
            attempt = self._create_attempt_row(
                self._prepare_attempt_vals(invoice, token, 0.0, date_ref)
                | {"state": "error", "message": message[:250]}
            )
            self._schedule_retry(attempt)
            return attempt
        if kind == "paid" and invoice.recurring_charge_state:
            invoice._write_recurring_state(
                {"recurring_charge_state": False, "recurring_charge_retry_date": False}
            )
            self._clear_payment_failing(invoice.recurring_contract_id)
        return Attempt

    # -------------------------------------------------------------------------
    # CHARGE INVARIANTS
    # -------------------------------------------------------------------------

    @api.model
    def _check_charge(self, invoice, token, transaction=None):
        """The one place that decides whether ``token`` may charge
        ``invoice`` now, before any transaction is created or sent again
        (``transaction``: the one being sent again). Returns ``(amount,
        None)``, the amount to charge, or ``(0.0, (kind, message))``:

        - ``void``: not a posted customer invoice;
        - ``paid``: nothing left to charge once the open credit notes of the
          same contract and period are reconciled with it (as Odoo's own
          credit note matching would);
        - ``busy``: a payment of it under way elsewhere (another transaction
          pending, authorized, or done and not yet reconciled);
        - ``partner``: the token is not of the invoice's commercial partner;
        - ``token``: the token is archived, or its provider cannot charge it
          (disabled, saved payment methods not allowed, another company).
        """
        if invoice.move_type != "out_invoice" or invoice.state != "posted":
            return 0.0, ("void", _("The invoice is not a posted customer invoice."))
        self._reconcile_period_credit_notes(invoice)
        if invoice.payment_state not in OPEN_PAYMENT_STATES or (
            invoice.currency_id.compare_amounts(invoice.amount_residual, 0.0) <= 0
        ):
            return 0.0, ("paid", _("The invoice is already paid."))
        # sudo: transactions, tokens and providers are for administrators
        # and invoicing users; only read here, to decide.
        others = invoice.sudo().transaction_ids.filtered_domain(
            BUSY_TRANSACTION_DOMAIN
        ) - (transaction or self.env["payment.transaction"])
        if others:
            return 0.0, ("busy", _("A payment of the invoice is under way."))
        token_sudo = token.sudo()
        if (
            not token
            or token_sudo.partner_id.commercial_partner_id
            != invoice.commercial_partner_id
        ):
            return 0.0, (
                "partner",
                _("The payment method is not of the invoice's customer."),
            )
        provider = token_sudo.provider_id
        if (
            not token_sudo.active
            or provider.state not in ("enabled", "test")
            or not provider.allow_tokenization
            or provider.company_id != invoice.company_id
        ):
            return 0.0, (
                "token",
                _(
                    "The payment method %(token)s can no longer be charged "
                    "(deleted by the customer, or its payment provider is "
                    "disabled): ask the customer for a new payment method.",
                    token=token_sudo.display_name,
                ),
            )
        return invoice.amount_residual, None

    @api.model
    def _reconcile_period_credit_notes(self, invoice):
        """Reconcile with ``invoice`` the open credit notes the engine issued
        for the same contract and period (a close or a pause inside a period
        billed in advance) to the same customer: what is left is what the
        customer owes for that period."""
        period = invoice.recurring_period_id
        if not period:
            return
        credits = self.env["account.move"].search(
            [
                ("move_type", "=", "out_refund"),
                ("state", "=", "posted"),
                ("payment_state", "in", OPEN_PAYMENT_STATES),
                ("recurring_contract_id", "=", invoice.recurring_contract_id.id),
                ("recurring_period_id.period_index", "=", period.period_index),
                ("commercial_partner_id", "=", invoice.commercial_partner_id.id),
                ("currency_id", "=", invoice.currency_id.id),
            ],
            order="id",
        )
        receivable = invoice.line_ids.filtered(
            lambda line: line.display_type == "payment_term"
        ).account_id
        for line in credits.line_ids.filtered(
            lambda line: line.account_id in receivable and not line.reconciled
        ):
            if invoice.payment_state not in OPEN_PAYMENT_STATES:
                break
            invoice.js_assign_outstanding_line(line.id)

    @api.model
    def _charge_invoice(self, attempt):
        """Send the payment request of ``attempt`` and apply the answer. Any
        error of the provider is a failed charge of this invoice only."""
        transaction = attempt.transaction_id.sudo()  # see _create_attempt
        try:
            with self.env.cr.savepoint():
                compat.charge_with_token(transaction)
        except CONCURRENCY_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - one provider call must not stop the others
            _logger.info("Charge %s failed: %s", transaction.reference, error)
            transaction._set_error(str(error) or repr(error))
        if transaction.state == "done" and not transaction.is_post_processed:
            # Odoo's own post-processing: the payment, its reconciliation with
            # the invoice (then _apply_transaction_state runs from there).
            transaction._post_process()
        self._apply_transaction_state(attempt)

    # -------------------------------------------------------------------------
    # OUTCOMES
    # -------------------------------------------------------------------------

    @api.model
    def _apply_transaction_state(self, attempts):
        """Follow the transactions of pending ``attempts``: done clears the
        dunning, error or cancel schedules a retry (or applies the final
        outcome); pending stays pending (only the provider's answer, through
        Odoo's post-processing, moves it on)."""
        for attempt in attempts.filtered(lambda a: a.state == "pending"):
            transaction = attempt.transaction_id.sudo()  # see _create_attempt
            if transaction.state == "done":
                self._write_attempts(attempt, {"state": "done"})
                attempt.invoice_id._write_recurring_state(
                    {
                        "recurring_charge_state": "done",
                        "recurring_charge_retry_date": False,
                    }
                )
                self._clear_payment_failing(attempt.contract_id)
            elif transaction.state in ("error", "cancel"):
                self._write_attempts(
                    attempt,
                    {
                        "state": "error",
                        "message": (transaction.state_message or "")[:250],
                    },
                )
                self._schedule_retry(attempt)

    @api.model
    def _schedule_retry(self, attempt):
        """A failed charge: the next retry date from the company's schedule,
        or, after the last retry, the configured outcome. The customer gets
        an email with the links to pay and to update the card each time."""
        invoice = attempt.invoice_id
        company = invoice.company_id
        failures = invoice.recurring_payment_attempt_ids.sorted("id").filtered(
            lambda a: a.state in ("error", "reversed")
        )
        # A reversed charge starts a new round of retries from its reversal.
        reversal = failures.filtered(lambda a: a.state == "reversed")[-1:]
        if reversal:
            failures = failures.filtered(lambda a: a.id >= reversal.id)
        first_failure = min(a.reversal_date or a.date for a in failures)
        retry_date = dunning.next_retry_date(
            first_failure,
            len(failures),
            dunning.parse_days(company.recurring_retry_days),
        )
        invoice._write_recurring_state(
            {
                "recurring_charge_state": "failing" if retry_date else "given_up",
                "recurring_charge_retry_date": retry_date,
            }
        )
        self._flag_payment_failing(attempt)
        # Told once the run is over, with the other failures of the contract
        # (_send_failure_notices): one email per contract and run.
        invoice._write_recurring_state({"recurring_failure_to_notify": True})
        if not retry_date and self._is_current_customer_invoice(invoice):
            self._apply_dunning_outcome(
                attempt.contract_id,
                company.recurring_dunning_action,
                attempt.date,
            )

    @api.model
    def _flag_payment_failing(self, attempt):
        contract = attempt.contract_id
        message = attempt.message or _("The payment provider refused the charge.")
        contract._message_log(
            body=Markup("%s<br/>%s")
            % (
                _(
                    "The automatic charge of invoice %(invoice)s failed.",
                    invoice=attempt.invoice_id.name,
                ),
                message,
            )
        )
        if contract.payment_failing:
            return
        contract._write_privileged({"payment_failing": True})
        # The assignment email needs a sender address; the billing user has
        # none (see the engine's billing errors).
        contract.with_context(
            mail_activity_quick_update=not self.env.user.partner_id.email
        ).activity_schedule(
            "mail.mail_activity_data_warning",
            user_id=(contract.user_id or self.env.user).id,
            summary=_("Automatic payment failing"),
            note=_(
                "The automatic charge of invoice %(invoice)s failed: %(message)s",
                invoice=attempt.invoice_id.name,
                message=message,
            ),
        )

    @api.model
    def _clear_payment_failing(self, contracts):
        """Contracts whose failed invoices are all paid again: clear the
        flag and close the salesperson's activity."""
        for contract in contracts.filtered("payment_failing"):
            unpaid = self.env["account.move"].search_count(
                [
                    ("recurring_contract_id", "=", contract.id),
                    # A former customer's debt never flags the contract.
                    ("commercial_partner_id", "=", contract.commercial_partner_id.id),
                    ("recurring_charge_state", "in", ("failing", "given_up")),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("state", "=", "posted"),
                ],
                limit=1,
            )
            if unpaid:
                continue
            contract._write_privileged({"payment_failing": False})
            contract.activity_unlink(["mail.mail_activity_data_warning"])
            contract._message_log(
                body=_("Payment received: payment no longer failing.")
            )

    @api.model
    def _clear_paid_failures(self):
        """Invoices paid another way (the portal, a bank transfer) since their
        charge failed: stop retrying them, clear their contract's flag."""
        paid = self.env["account.move"].search(
            [
                ("recurring_charge_state", "in", ("failing", "given_up")),
                ("payment_state", "in", ("paid", "in_payment", "reversed")),
            ]
        )
        if paid:
            paid._write_recurring_state(
                {"recurring_charge_state": False, "recurring_charge_retry_date": False}
            )
            self._clear_payment_failing(paid.recurring_contract_id)

    @api.model
    def _reopen_reversed_charges(self, date_ref=None):
        """Charges whose payment was cancelled, reset to draft or reversed
        afterwards (a chargeback booked by the accountant): the invoice is
        open again, so it goes back to the retries and dunning, with the
        flag and the email, as a failed charge on the company's date."""
        invoices = self._lock_invoices(
            self.env["account.move"].search(
                [
                    ("recurring_charge_state", "=", "done"),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", OPEN_PAYMENT_STATES),
                ],
                order="id",
                limit=self._get_batch_size(),
            )
        )
        for invoice in invoices:
            attempt = invoice.recurring_payment_attempt_ids.filtered(
                lambda a: a.state == "done"
            )[:1]
            if not attempt:
                invoice._write_recurring_state({"recurring_charge_state": False})
                continue
            today = date_ref or invoice.company_id._get_recurring_today()
            self._write_attempts(
                attempt,
                {
                    "state": "reversed",
                    "reversal_date": today,
                    "message": _("The payment of the charge was cancelled."),
                },
            )
            self._schedule_retry(attempt)

    @api.model
    def _is_current_customer_invoice(self, invoice):
        """Pausing or closing a contract for an unpaid invoice is for the
        debt of its current customer only: after a change of customer, the
        former one's invoices stay theirs (reminded, never charged to the
        new customer) and never stop the new customer's contract."""
        return (
            invoice.commercial_partner_id
            == invoice.recurring_contract_id.commercial_partner_id
        )

    @api.model
    def _apply_dunning_outcome(self, contract, action, date_ref):
        """After the last retry, or too long unpaid: nothing, pause billing,
        or close with the company's close reason, from ``date_ref``."""
        # sudo: the lifecycle actions post a chatter message, and the billing
        # user has no email address to post from; the action is the company's
        # own dunning rule, on a contract the billing user can read and write.
        contract = contract.sudo()
        # The customer was told of each failed charge (and that the contract
        # may stop) by the failure notices: no second email here.
        if action == "pause" and contract.state == "running":
            contract.action_pause(
                date_pause=max(date_ref, contract.date_start), notify=False
            )
        elif action == "close" and contract.state in ("running", "paused"):
            contract.action_close(
                date_close=date_ref,
                reason=contract.company_id.recurring_dunning_close_reason_id,
                notify=False,
            )

    @api.model
    def _post_template(self, invoice, xmlid):
        """Queue the email (never sent inline), kept in the invoice's
        chatter."""
        template = self.env.ref(xmlid, raise_if_not_found=False)
        if not template or not invoice.partner_id.email:
            return
        if not template._render_field("email_from", invoice.ids)[invoice.id]:
            # No salesperson or company address to send from: posting would
            # raise and stop the charging of the other invoices.
            _logger.warning(
                "No sender address for %s: set the company's email", invoice.name
            )
            return
        # The template's sender is the salesperson or the company (the
        # billing user has no email address).
        invoice.with_context(mail_notify_force_send=False).message_post_with_source(
            template,
            subtype_xmlid="mail.mt_comment",
            # The customer only, as the template says (see
            # recurring.contract._send_customer_notice).
            partner_ids=[Command.set(invoice.partner_id.ids)],
        )

    # -------------------------------------------------------------------------
    # CUSTOMERS WITHOUT A SAVED PAYMENT METHOD
    # -------------------------------------------------------------------------

    @api.model
    def _apply_unpaid_policy(self, date_ref=None):
        """Reminders of overdue invoices not charged automatically (no saved
        payment method, or one of another customer), then pause or close
        after the company's number of days overdue, for the debt of the
        contract's current customer only."""
        for company in self.env.companies:
            reminder_days = dunning.parse_days(company.recurring_unpaid_reminder_days)
            action = company.recurring_unpaid_action
            if not reminder_days and action == "none":
                continue
            today = date_ref or company._get_recurring_today()
            invoices = self.env["account.move"].search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("recurring_contract_id", "!=", False),
                    # Not charged automatically: no saved payment method, or
                    # one of another customer (the contract changed hands).
                    "|",
                    ("recurring_contract_id.payment_token_id", "=", False),
                    ("recurring_token_matches", "=", False),
                    ("invoice_date_due", "<", today),
                ]
            )
            for invoice in invoices:
                due = invoice.invoice_date_due
                if dunning.reminders_due(
                    due, today, reminder_days, invoice.recurring_reminder_count
                ):
                    invoice._write_recurring_state(
                        {
                            "recurring_reminder_count": invoice.recurring_reminder_count
                            + 1
                        }
                    )
                    self._post_template(
                        invoice, "recurring_billing.mail_template_payment_reminder"
                    )
                contract = invoice.recurring_contract_id
                if (
                    action != "none"
                    and self._is_current_customer_invoice(invoice)
                    and dunning.overdue_action_due(
                        due, today, company.recurring_unpaid_action_days
                    )
                ):
                    self._apply_dunning_outcome(contract, action, today)
