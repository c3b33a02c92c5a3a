# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from markupsafe import Markup

from odoo import Command, _, api, fields, models

from ..core import dunning
from ..tools import locking
from ..tools.concurrency import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)


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
        self._resend_unanswered(in_cron)
        done = 0
        while invoices := self._claim_invoices(date_ref, in_cron):
            done += len(self._charge_batch(invoices, date_ref, in_cron))
            if in_cron:
                break
        self._clear_paid_failures()
        remaining = self.env["account.move"].search_count(
            self._get_invoices_to_charge_domain(date_ref)
        )
        if not remaining:
            self._apply_unpaid_policy(date_ref)
        if notify:
            self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
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
        return self._charge_batch(locked, date_ref, in_cron=False)

    # -------------------------------------------------------------------------
    # CLAIM
    # -------------------------------------------------------------------------

    @api.model
    def _get_invoices_to_charge_domain(self, date_ref=None):
        """Posted, unpaid customer invoices of contracts with a saved payment
        method, never charged, or failed with a retry due; never one with a
        payment under way elsewhere (the customer paying it in the portal: a
        transaction pending, authorized, or done and not yet reconciled),
        which a charge would make a second payment of."""
        today = date_ref or self.env.company._get_recurring_today()
        return [
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("recurring_contract_id.payment_token_id", "!=", False),
            (
                "transaction_ids",
                "not any",
                [
                    "|",
                    ("state", "in", ("pending", "authorized")),
                    "&",
                    ("state", "=", "done"),
                    ("is_post_processed", "=", False),
                ],
            ),
            "|",
            ("recurring_charge_state", "=", False),
            "&",
            ("recurring_charge_state", "=", "failing"),
            ("recurring_charge_retry_date", "<=", today),
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
            _logger.info(
                "Charge %s unanswered: sent again", attempt.transaction_id.reference
            )
            self._charge_invoice(attempt)
            if in_cron:
                self.env.cr.commit()  # pylint: disable=invalid-commit

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
        never stops the others."""
        date_ref = date_ref or self.env.company._get_recurring_today()
        attempts = self.env["recurring.payment.attempt"]
        for invoice in invoices:
            attempts |= self._create_attempt(invoice, date_ref)
        if in_cron:
            # The attempts are saved for good before any provider is called:
            # a crash from here on leaves them pending, never charged twice.
            self.env.cr.commit()  # pylint: disable=invalid-commit
        for attempt in attempts:
            self._charge_invoice(attempt)
            if in_cron:
                # Each answer is kept, whatever happens to the next call.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return attempts

    @api.model
    def _create_attempt(self, invoice, date_ref):
        """The attempt and its payment transaction, in one savepoint: the
        unique index refuses a second live attempt of the invoice."""
        contract = invoice.recurring_contract_id
        token = contract.payment_token_id
        # sudo: payment transactions and providers are for administrators
        # and invoicing users; the billing user charges only the token saved
        # on the contract (checked against its customer and company by the
        # contract's constraint) for the invoice's open amount.
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
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "token_id": token.id,
                    "operation": "offline",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
            attempt = self.env["recurring.payment.attempt"].create(
                {
                    "invoice_id": invoice.id,
                    "contract_id": contract.id,
                    "company_id": invoice.company_id.id,
                    "transaction_id": transaction.id,
                    "token_id": token.id,
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "date": date_ref,
                }
            )
            invoice.write(
                {
                    "recurring_charge_state": "pending",
                    "recurring_charge_retry_date": False,
                }
            )
        return attempt

    @api.model
    def _charge_invoice(self, attempt):
        """Send the payment request of ``attempt`` and apply the answer. Any
        error of the provider is a failed charge of this invoice only."""
        transaction = attempt.transaction_id.sudo()  # see _create_attempt
        try:
            with self.env.cr.savepoint():
                transaction._send_payment_request()
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
                attempt.state = "done"
                attempt.invoice_id.write(
                    {
                        "recurring_charge_state": "done",
                        "recurring_charge_retry_date": False,
                    }
                )
                self._clear_payment_failing(attempt.contract_id)
            elif transaction.state in ("error", "cancel"):
                attempt.write(
                    {
                        "state": "error",
                        "message": (transaction.state_message or "")[:250],
                    }
                )
                self._schedule_retry(attempt)

    @api.model
    def _schedule_retry(self, attempt):
        """A failed charge: the next retry date from the company's schedule,
        or, after the last retry, the configured outcome. The customer gets
        an email with the links to pay and to update the card each time."""
        invoice = attempt.invoice_id
        company = invoice.company_id
        failures = invoice.recurring_payment_attempt_ids.filtered(
            lambda a: a.state == "error"
        )
        first_failure = min(failures.mapped("date"))
        retry_date = dunning.next_retry_date(
            first_failure,
            len(failures),
            dunning.parse_days(company.recurring_retry_days),
        )
        invoice.write(
            {
                "recurring_charge_state": "failing" if retry_date else "given_up",
                "recurring_charge_retry_date": retry_date,
            }
        )
        self._flag_payment_failing(attempt)
        self._send_failure_email(invoice)
        if not retry_date:
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
        contract.payment_failing = True
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
                    ("recurring_charge_state", "in", ("failing", "given_up")),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("state", "=", "posted"),
                ],
                limit=1,
            )
            if unpaid:
                continue
            contract.payment_failing = False
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
            paid.write(
                {"recurring_charge_state": False, "recurring_charge_retry_date": False}
            )
            self._clear_payment_failing(paid.recurring_contract_id)

    @api.model
    def _apply_dunning_outcome(self, contract, action, date_ref):
        """After the last retry, or too long unpaid: nothing, pause billing,
        or close with the company's close reason, from ``date_ref``."""
        # sudo: the lifecycle actions post a chatter message, and the billing
        # user has no email address to post from; the action is the company's
        # own dunning rule, on a contract the billing user can read and write.
        contract = contract.sudo()
        if action == "pause" and contract.state == "running":
            contract.action_pause(date_pause=max(date_ref, contract.date_start))
        elif action == "close" and contract.state in ("running", "paused"):
            contract.action_close(
                date_close=date_ref,
                reason=contract.company_id.recurring_dunning_close_reason_id,
            )

    @api.model
    def _send_failure_email(self, invoice):
        self._post_template(invoice, "recurring_billing.mail_template_payment_failed")

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
            template, subtype_xmlid="mail.mt_comment"
        )

    # -------------------------------------------------------------------------
    # CUSTOMERS WITHOUT A SAVED PAYMENT METHOD
    # -------------------------------------------------------------------------

    @api.model
    def _apply_unpaid_policy(self, date_ref=None):
        """Reminders of overdue invoices of contracts without a saved
        payment method, then pause or close after the company's number of
        days overdue."""
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
                    ("recurring_contract_id.payment_token_id", "=", False),
                    ("invoice_date_due", "<", today),
                ]
            )
            for invoice in invoices:
                due = invoice.invoice_date_due
                if dunning.reminders_due(
                    due, today, reminder_days, invoice.recurring_reminder_count
                ):
                    invoice.recurring_reminder_count += 1
                    self._post_template(
                        invoice, "recurring_billing.mail_template_payment_reminder"
                    )
                contract = invoice.recurring_contract_id
                if action != "none" and dunning.overdue_action_due(
                    due, today, company.recurring_unpaid_action_days
                ):
                    self._apply_dunning_outcome(contract, action, today)
