# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import random
import time
from datetime import timedelta

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core.plan import PlannedItem
from ..tools import compat, locking
from ..tools.concurrency import CONCURRENCY_ERRORS
from ..tools.privileged import privileged_context
from .selections import BILLING_STATES

_logger = logging.getLogger(__name__)

MAX_CONCURRENCY_RETRIES = 3
# Seconds before a batch given up on another worker's lock is tried again
# (spread: two workers giving up together come back apart).
CONFLICT_RETRY_DELAY = (2.0, 5.0)


class RecurringBillingEngine(models.AbstractModel):
    """The billing engine: turns the due periods of running contracts into
    ledger rows and invoices, exactly once, in batches.

    Shaped like Odoo's ``account.move.send``: a service with no records of
    its own, whose entry points (``_run_scheduled``, ``_generate_for``) call
    short named steps. Tools and extensions may call two of them directly:
    ``_claim_batch`` (lock the next batch, as the scheduled action does) and
    ``_bill_batch`` (bill a locked batch). Everything it needs from a contract
    goes through the contract's hooks: ``_get_contracts_to_invoice_domain``,
    ``_get_due_periods``, ``_get_billing_blockers``, ``_prepare_period_vals``,
    ``_prepare_invoice_vals``, ``_is_fully_billed``; for usage lines
    ``_get_usage_charges``, ``_get_final_usage_period``
    (the records themselves: ``recurring.contract.usage._read_batch_usage``,
    one grouped query per batch, and ``_mark_billed``).
    """

    _name = "recurring.billing.engine"
    _description = "Recurring Billing Engine"

    # -------------------------------------------------------------------------
    # ENTRY POINTS
    # -------------------------------------------------------------------------

    @api.model
    def _run_scheduled(self, date_ref=None):
        """The scheduled action. Under ir.cron each call bills one batch,
        reports its progress and returns: the scheduler commits and calls
        again, so a crash or a timeout only loses the batch in flight (and
        when the scheduler stops calling, the rest is triggered at once).
        Called from code (a shell, a test): every batch, without commit.
        Without ``date_ref``, each company bills on its own date."""
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        progress = self.env["ir.cron"]
        if in_cron:
            # ir.cron gives each call (up to 10 per run, one transaction
            # chain) a new progress id in the context: every environment the
            # batch derives (with_company, create's context, Odoo's own
            # with_context) would then be new too, and the previous calls'
            # ones stay alive in reference cycles until a full garbage
            # collection. Odoo looks environments up by a linear scan of the
            # transaction's, so each call got slower than the one before
            # (a profile: 5 live environments at the first batch,
            # 32 at the fifth). Without the id, each call reuses the
            # previous call's environments.
            self = self.with_context(ir_cron_progress_id=None)  # noqa: PLW0642
        self = self._start_run(date_ref)  # noqa: PLW0642
        done = 0
        while contracts := self._claim_batch_with_retry(date_ref, in_cron):
            company = contracts.company_id
            try:
                self.with_company(company)._bill_batch(
                    contracts, date_ref or company._get_recurring_today()
                )
            except Exception as error:
                if not (in_cron and self._is_retryable_error(error)):
                    raise
                # Another worker holds a lock the batch needs (a numbering,
                # a tax agency's document chain) and commits soon: give the
                # batch up and call again shortly, as for a lost claim. Under
                # ir.cron nothing else of ours is pending (each call commits
                # its batch), so the rollback loses nothing that the next
                # call does not redo.
                _logger.info("billing batch given up (%s): billed again", error)
                self.env.cr.rollback()
                self.env.invalidate_all(flush=False)
                # Later, not at once: a trigger "now" would wake the
                # scheduler in a busy loop for as long as the lock is held.
                self._trigger_next_run(delay=random.uniform(*CONFLICT_RETRY_DELAY))
                return done
            done += len(contracts)
            if in_cron:
                self._commit_batch()
                break
        remaining = self.env["recurring.contract"].search_count(
            self._get_due_domain(date_ref)
        )
        compat.report_cron_progress(progress.env, done, remaining)
        if in_cron and remaining:
            self._trigger_next_run()
        return done

    @api.model
    def _start_run(self, date_ref=None):
        """What every run does first, whoever bills it (the scheduled
        action, the job queue bridge): switch to the billing user, then
        renew the terms that ended. Returns the engine as the billing user."""
        engine = self._get_billing_env()
        engine._renew_ended_terms(date_ref)
        return engine

    @api.model
    def _commit_batch(self):
        """Under ir.cron, commit a billed batch at once: posting took the
        journal's number lock, which every other worker posting in the same
        journal waits for until we commit. What follows (counting what is
        left, the progress record) is ir.cron's bookkeeping, committed after
        the call; a crash in between loses only the count, which the next
        call makes again. The batch itself is committed whole or not at all,
        as before. Not in tests (Odoo's own rule: ``_can_commit``)."""
        if self.env["account.move"]._can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _renew_ended_terms(self, date_ref=None):
        """Renew the running contracts whose term ended and that renew
        themselves, before anything is billed (each company on its own date):
        a term continues without a gap."""
        dates = {
            company: date_ref or company._get_recurring_today()
            for company in self.env.companies
        }
        # One query for every company (most runs find nothing), then each
        # contract against its own company's date.
        contracts = self.env["recurring.contract"].search(
            [
                ("company_id", "in", self.env.companies.ids),
                ("state", "=", "running"),
                ("auto_renew", "=", True),
                ("date_end", "<", max(dates.values())),
            ]
        )
        for contract in contracts:
            day = dates[contract.company_id]
            contract = contract.with_company(contract.company_id)
            contract._renew_terms_due(day)

    @api.model
    def _get_due_domain(self, date_ref=None):
        """The contracts to bill: ``_get_contracts_to_invoice_domain`` of the
        contract, on ``date_ref`` or on each company's own date."""
        Contract = self.env["recurring.contract"]
        if date_ref:
            return Contract._get_contracts_to_invoice_domain(date_ref)
        return compat.domain_or(
            [
                compat.domain_and(
                    [
                        [("company_id", "=", company.id)],
                        Contract._get_contracts_to_invoice_domain(
                            company._get_recurring_today()
                        ),
                    ]
                )
                for company in self.env.companies
            ]
        )

    @api.model
    def _trigger_next_run(self, delay=0):
        """More is due than this call billed: run again at once (or in
        ``delay`` seconds) rather than tomorrow, whoever started the run (the
        scheduler stops after a few calls; "Run manually" makes only one)."""
        cron = self.env.ref(
            "recurring_billing.ir_cron_generate_invoices", raise_if_not_found=False
        )
        if not cron:
            return
        # sudo: the billing user may not read scheduled actions; only this
        # module's own scheduled action is triggered.
        cron = cron.sudo()
        at = fields.Datetime.now() + timedelta(seconds=delay)
        pending = (
            self.env["ir.cron.trigger"]
            .sudo()
            .search_count(
                [("cron_id", "=", cron.id), ("call_at", "<=", at)],
                limit=1,
            )
        )
        if not pending:
            cron._trigger(at=at if delay else None)

    @api.model
    def _generate_for(self, contracts, date_ref=None, retry_failed=True):
        """Bill every period of ``contracts`` due on ``date_ref`` (default:
        today), in batches, without committing. Contracts another transaction
        is invoicing are skipped (they are being billed there). Returns the
        ``account.move`` records created."""
        moves = self.env["account.move"]
        contracts = contracts.filtered(
            lambda c: c.state in BILLING_STATES
            or (c.adjustment_pending and c.state != "draft")
        )
        if not retry_failed:
            contracts = contracts.filtered(
                lambda c: not c.billing_error_date
                or c.billing_error_date
                < (date_ref or c.company_id._get_recurring_today())
            )
        batch_size = self._get_batch_size()
        todo = contracts
        while todo:
            batch, todo = todo[:batch_size], todo[batch_size:]
            locked = self._try_lock(batch)
            before = {contract.id: contract.next_invoice_date for contract in locked}
            billed = self.env["account.move"]
            for (company, _journal), group in locked.grouped(
                lambda c: (c.company_id, c.journal_id)
            ).items():
                billed |= self.with_company(company)._bill_batch(
                    group, date_ref or company._get_recurring_today()
                )
            moves |= billed
            # A batch of periods that owe nothing (skipped: a long pause, the
            # time closed before a renewal) bills no invoice but moves the
            # contracts on: they go round again too. Nothing moved: stop.
            moved = locked.filtered(
                lambda c, before=before: c.next_invoice_date != before[c.id]
            )
            if not billed and not moved:
                continue
            # A batch bills at most batch_size invoices: contracts with more
            # periods due (a backlog) go round again; failed ones do not.
            todo = (
                locked.filtered(
                    lambda c: c.state in BILLING_STATES
                    and c.next_invoice_date
                    and c.next_invoice_date
                    <= (date_ref or c.company_id._get_recurring_today())
                    and not c.billing_error_date
                )
                | todo
            )
        return moves

    @api.model
    def _invoice_now(self, contracts):
        """The contract's 'Invoice now' button: bill what is due up to today
        at once, and show the invoice, the invoices or the error."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(_("Only invoicing users can invoice contracts."))
        if self._try_lock(contracts, nowait=True) != contracts:
            raise UserError(
                _(
                    "This contract is being invoiced right now by another "
                    "process. Try again in a moment."
                )
            )
        for contract in contracts:
            # A closed contract may still owe an adjustment (the credit of
            # a close): that is billed on demand too.
            if contract.state not in BILLING_STATES and not (
                contract.adjustment_pending and contract.state == "closed"
            ):
                raise UserError(
                    _(
                        "Only a running contract can be invoiced (%(name)s).",
                        name=contract.name,
                    )
                )
        moves = self._generate_for(contracts, retry_failed=True)
        failed = contracts.filtered("billing_error")
        if failed:
            # Keep the error on the contract (raising would roll it back, and
            # the invoices of the other contracts with it): show it instead.
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "danger",
                    "title": _("Not invoiced"),
                    "message": failed[0].billing_error,
                    "sticky": True,
                    "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                },
            }
        if not moves:
            raise UserError(_("Nothing is due yet on this contract."))
        if len(moves) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "view_mode": "form",
                "res_id": moves.id,
            }
        return contracts.action_view_invoices()

    @api.model
    def _get_billing_env(self):
        """ir.cron runs as the superuser (so that "Run manually" works for
        administrators); billing itself runs as the dedicated billing user,
        bound by record rules and invoicing rights, in every company."""
        if not self.env.is_superuser():
            return self
        bot = self.env.ref(
            "recurring_billing.user_billing_bot", raise_if_not_found=False
        )
        if not bot:
            return self
        missing = self.env["res.company"].search(
            [("id", "not in", bot.company_ids.ids)]
        )
        if missing:
            # Companies that existed before the install, or were made without
            # the ORM: the billing user must see every company to bill it
            # (already the superuser here; only this module's user changes).
            bot.company_ids = [Command.link(company.id) for company in missing]
        return self.with_user(bot).with_context(allowed_company_ids=bot.company_ids.ids)

    # -------------------------------------------------------------------------
    # CLAIM
    # -------------------------------------------------------------------------

    @api.model
    def _claim_batch(self, date_ref):
        """Lock and return the next batch of due contracts, all of one company
        and journal (posting locks the journal's numbering; one journal per
        transaction cannot deadlock with another worker).

        Rows held by another worker are skipped, so several workers share
        the work without waiting for each other."""
        domain = self._get_due_domain(date_ref)
        first = self._search_locked(domain, limit=1)
        if not first:
            return first
        domain = compat.domain_and(
            [
                domain,
                [
                    ("company_id", "=", first.company_id.id),
                    ("journal_id", "=", first.journal_id.id),
                ],
            ]
        )
        return first | self._search_locked(domain, limit=self._get_batch_size())

    @api.model
    def _claim_batch_with_retry(self, date_ref, in_cron=False):
        """Claim, retrying when another worker committed the same rows since
        our snapshot began (REPEATABLE READ raises a serialization failure).

        Only under ir.cron, where the call starts right after the scheduler's
        commit and nothing of ours is pending, may the transaction be rolled
        back to get a fresh snapshot. Elsewhere the error goes up, to Odoo's
        own retry of HTTP/RPC requests."""
        for attempt in range(MAX_CONCURRENCY_RETRIES + 1):
            try:
                with self.env.cr.savepoint(flush=False):
                    return self._claim_batch(date_ref)
            except CONCURRENCY_ERRORS:
                if not in_cron or attempt == MAX_CONCURRENCY_RETRIES:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all(flush=False)
                time.sleep(random.uniform(0, 0.1 * 2**attempt))
        return self.env["recurring.contract"]

    @api.model
    def _is_retryable_error(self, error):
        """Whether ``error``, raised while billing a batch, means "another
        transaction got there first" (it holds a lock posting needs, or
        committed the same rows): the batch is billed again, and the error is
        never recorded as a problem of its contracts. Bridges extend it for
        the modules that report such a conflict in their own way (a
        UserError wrapping the lock error)."""
        return isinstance(error, CONCURRENCY_ERRORS)

    @api.model
    def _search_locked(self, domain, limit):
        """The due contracts of ``domain`` no other worker holds, oldest due
        first (``tools/locking.py``)."""
        return locking.claim(
            self.env["recurring.contract"],
            domain,
            order="next_invoice_date, id",
            limit=limit,
        )

    @api.model
    def _try_lock(self, contracts, nowait=False):
        """Lock ``contracts`` for billing. Returns the contracts locked: with
        ``nowait`` all of them or none, otherwise those no other transaction
        holds (``SKIP LOCKED``)."""
        return locking.lock(contracts, nowait=nowait)

    # -------------------------------------------------------------------------
    # ONE BATCH
    # -------------------------------------------------------------------------

    @api.model
    def _bill_batch(self, contracts, date_ref):
        """Bill the locked ``contracts`` (one company and journal).

        The happy path is one savepoint, one ``create`` and one ``_post`` for
        the whole batch. When it fails, the batch is split in halves until
        the failing contracts are isolated; they get ``billing_error`` and
        the others are billed normally.
        """
        started = time.monotonic()
        contracts = contracts.with_env(self.env)  # the batch's company

        # Cheap checks first: they turn into contract errors, not exceptions.
        plans, errors, stale = self._plan_batch(contracts, date_ref)
        if stale:
            self._refresh_next_dates(stale)
        moves = self.env["account.move"]
        pending = [plans]
        while pending:
            chunk = pending.pop()
            if not chunk:
                continue
            try:
                with self.env.cr.savepoint():
                    moves |= self._create_invoices(chunk, date_ref)
            except Exception as error:  # noqa: BLE001 - isolate any failure
                if self._is_retryable_error(error):
                    # Another transaction holds what posting needs: not a
                    # problem of these contracts; the whole batch is billed
                    # again (see _run_scheduled).
                    raise
                if len(chunk) == 1:
                    errors[chunk[0][0]] = self._format_billing_error(error)
                else:
                    half = len(chunk) // 2
                    pending += [chunk[half:], chunk[:half]]
        self._record_results(contracts, plans, errors, date_ref)
        self._close_fully_billed(contracts)
        self._record_batch_speed(time.monotonic() - started, len(moves))
        return moves

    @api.model
    def _apply_price_updates(self, contracts, date_ref):
        """Before planning, the only step that writes: apply the yearly price
        updates that fall before the periods about to be billed, so that
        those periods are billed at the new prices. Returns {contract:
        error} for the contracts a missing index value blocks."""
        errors = {}
        for contract in contracts.filtered(lambda c: c.state in BILLING_STATES):
            periods = contract._get_due_periods(date_ref, limit=self._get_batch_size())
            blockers = contract._apply_price_updates(periods)
            if blockers:
                errors[contract] = "\n".join(blockers)
        return errors

    @api.model
    def _plan_batch(self, contracts, date_ref):
        """Return ([(contract, (PlannedItem, ...))], {contract: error},
        stale contracts): each contract with what it owes, capped to the
        batch size in invoices (``core/plan.py``). Every amount comes from
        the contract's ``_get_line_amounts`` (the schedule core) and
        ``_get_usage_charges`` (the usage core). Reads only: the writes
        come before (automatic renewals, ``_apply_price_updates``) and
        after."""
        budget = self._get_batch_size()
        contracts._renew_terms_due(date_ref)
        plans, errors = [], self._apply_price_updates(contracts, date_ref)
        stale = self.env["recurring.contract"]
        # The usage of the whole batch: one grouped query.
        usage_groups = self.env["recurring.contract.usage"]._read_batch_usage(contracts)
        for contract in contracts:
            if budget <= 0:
                break
            if contract in errors:
                continue
            items = []
            if contract.adjustment_pending:
                items += [
                    PlannedItem.for_adjustment(period, differences)
                    for period, differences in contract._get_adjustments()
                ]
            if contract.state in BILLING_STATES:
                # A catch-up bills each usage period once: an item counts the
                # usage of the items planned before it as billed.
                planned_until = None
                for period in contract._get_due_periods(date_ref, limit=budget):
                    items.append(
                        PlannedItem.for_period(
                            period,
                            contract._get_amounts_owed(period),
                            contract._get_usage_charges(
                                period, usage_groups, planned_until=planned_until
                            ),
                        )
                    )
                    planned_until = max(
                        filter(
                            None,
                            [planned_until, contract._get_usage_cutoff(period)],
                        )
                    )
            if contract.state == "running":
                final = not items and contract._get_final_usage_period()
                if final and final.invoice_date <= date_ref:
                    # An advance contract's last usage: its own invoice.
                    items.append(
                        PlannedItem.for_final_usage(
                            final,
                            contract._get_usage_charges(final, usage_groups, "usage"),
                        )
                    )
            if not items:
                if contract.adjustment_pending:
                    plans.append((contract, ()))  # nothing to adjust: unflag
                else:
                    stale |= contract
                continue
            blockers = contract._get_billing_blockers(date_ref)
            if blockers:
                errors[contract] = "\n".join(blockers)
                continue
            plans.append((contract, tuple(items)))
            budget -= sum(1 for item in items if item.counts_in_batch)
        return plans, errors, stale

    @api.model
    def _refresh_next_dates(self, contracts):
        """``contracts`` were selected as due by their stored next invoice
        date, but their schedule owes nothing: the stored date is stale (a
        change made behind the ORM's back, by SQL or a migration). Compute it
        again, or the run would claim them again and again without end."""
        Contract = self.env["recurring.contract"]
        for name in ("next_period_start", "next_invoice_date"):
            self.env.add_to_compute(Contract._fields[name], contracts)
        contracts.flush_recordset(["next_period_start", "next_invoice_date"])

    @api.model
    def _create_invoices(self, plans, date_ref):
        """Create the ledger rows and the invoices of ``plans``, then post and
        send them as each contract says. Runs inside the caller's savepoint:
        any failure undoes all of it."""
        ledger = self._create_ledger_rows(plans)
        move_vals_list = []
        for contract, items in plans:
            for position, item in enumerate(items):
                if not item.bills:
                    continue
                if item.kind == "adjustment":
                    vals = contract._prepare_adjustment_vals(
                        item.period, item.amounts, date_ref
                    )
                else:
                    vals = contract._prepare_invoice_vals(
                        item.period, date_ref, item.amounts, item.usage
                    )
                vals["recurring_period_id"] = ledger[contract, position].id
                move_vals_list.append(vals)
        contracts = self.env["recurring.contract"].browse(
            contract.id for contract, _items in plans
        )
        contracts.filtered("adjustment_pending")._write_privileged(
            {"adjustment_pending": False}
        )
        Move = self.env["account.move"]
        created = Move.with_context(
            # Only the engine links an invoice to its ledger row.
            **privileged_context(),
            # The mail side of create() (creation log, creator subscription,
            # tracking set-up) is the costliest part of it; one short message
            # per invoice follows below instead.
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            default_move_type="out_invoice",
        ).create(move_vals_list)
        # Back to the caller's context: posting and later edits are tracked
        # in the chatter as usual (state changes, the audit trail).
        moves = Move.browse(created.ids)
        body = Markup(_("Invoice generated from contract %(contract)s"))
        moves._message_log_batch(
            bodies={
                move.id: body
                % {"contract": move.recurring_contract_id._get_html_link()}
                for move in moves
            }
        )
        self._record_billed_usage(plans, ledger, moves)
        # Write what is pending (ledger rows, the contracts' next dates, usage
        # marks) before posting, not at commit: posting takes the journal's
        # number lock, and every statement from there to commit makes the
        # other workers of this journal wait.
        self.env.flush_all()
        self._post_and_send(moves)
        return moves

    @api.model
    def _record_billed_usage(self, plans, ledger, moves):
        """Write on each usage record the ledger row and invoice line that
        billed it, in the invoices' transaction (records of a period that
        billed nothing point at its ledger row only: counted, never retried)."""
        lines_by_key = {
            (
                line.move_id.recurring_period_id.id,
                line.recurring_line_id.id,
                line.recurring_date_start,
            ): line.id
            for line in moves.invoice_line_ids
            if line.recurring_line_id
        }
        entries = []
        for contract, items in plans:
            for position, item in enumerate(items):
                row = ledger[contract, position]
                for charge in item.usage:
                    key = (row.id, charge.line.id, charge.period.date_start)
                    entries.append(
                        (list(charge.usage_ids), row.id, lines_by_key.get(key))
                    )
        self.env["recurring.contract.usage"]._mark_billed(entries)

    @api.model
    def _create_ledger_rows(self, plans):
        """Write the ledger rows of what is about to be billed, in the same
        transaction as the invoices: the unique index on (contract_id,
        date_start) of period rows refuses a period twice before any invoice
        is built for it. A voided period billed again reuses its row.
        Returns {(contract, position of the item): row}."""
        ledger, new = {}, []
        for contract, items in plans:
            voided = {
                row.period_index: row
                for row in contract.period_ids
                if row.state == "voided" and row.kind == "period"
            }
            for position, item in enumerate(items):
                vals = contract._prepare_period_vals(
                    item.period,
                    state=item.ledger_state,
                    amounts=item.amounts,
                    kind=item.ledger_kind,
                )
                if item.kind == "period" and item.period.index in voided:
                    row = voided[item.period.index]
                    row._set_ledger_state("invoiced", vals["billed_amounts"])
                    ledger[contract, position] = row
                else:
                    new.append(((contract, position), vals))
        # sudo: no user may create ledger rows, not even the billing user
        # (they would mark periods skipped, never billed); the rows come
        # from the plan the engine just computed for contracts it reads.
        rows = (
            self.env["recurring.contract.period"]
            .sudo()
            .create([vals for _key, vals in new])
            .sudo(False)
        )
        for (key, _vals), row in zip(new, rows, strict=True):
            ledger[key] = row
        return ledger

    @api.model
    def _post_and_send(self, moves):
        to_post = moves.filtered(
            lambda m: m.recurring_contract_id.invoice_action in ("post", "post_send")
        )
        if to_post:
            if compat.POSTING_SUBSCRIBES_CUSTOMER:
                self._subscribe_customers(to_post)
            to_post._post(soft=False)
        to_send = to_post.filtered(
            lambda m: m.recurring_contract_id.invoice_action == "post_send"
        )
        if to_send:
            self._queue_invoice_sending(to_send)

    @api.model
    def _subscribe_customers(self, moves):
        """Make each customer a follower of its invoice, as ``_post`` does,
        with the same default subtypes (``_insert_followers``: the external
        ones for a partner without a user), for the whole batch at once.
        ``_post`` does it invoice by invoice, an access check, a partner
        search, a follower query and an insert each; it then finds every
        customer following already and adds nothing."""
        partners = moves.partner_id.filtered("active")
        if not partners:
            return
        Followers = self.env["mail.followers"]
        existing = {
            (res_id, partner_id)
            for _id, res_id, partner_id, _subtypes in Followers._get_subscription_data(
                [(moves._name, moves.ids)], partners.ids
            )
        }
        default, _internal, external = self.env[
            "mail.message.subtype"
        ].default_subtypes(moves._name)
        # sudo: followers are mail's technical records, created here exactly
        # as message_subscribe would (which checks write access on the
        # invoices: this user created them in this transaction).
        Followers.sudo().with_context(default_partner_id=False).create(
            [
                {
                    "res_model": moves._name,
                    "res_id": move.id,
                    "partner_id": move.partner_id.id,
                    "subtype_ids": [
                        Command.set(
                            (external if move.partner_id.partner_share else default).ids
                        )
                    ],
                }
                for move in moves
                if move.partner_id in partners
                and (move.id, move.partner_id.id) not in existing
            ]
        )

    @api.model
    def _queue_invoice_sending(self, moves):
        """Hand posted invoices to Odoo's own asynchronous sending (the
        account.move.send scheduled action renders the PDF and mails it with
        the customer's language), never inside the billing transaction."""
        moves.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
        }
        send_cron = self.env.ref(
            "account.ir_cron_account_move_send", raise_if_not_found=False
        )
        if send_cron:
            send_cron._trigger()

    # -------------------------------------------------------------------------
    # RESULTS: ERRORS AND CLOSINGS
    # -------------------------------------------------------------------------

    @api.model
    def _record_results(self, contracts, plans, errors, date_ref):
        """Clear the error of the contracts billed, flag those that failed."""
        planned = contracts.browse(contract.id for contract, _periods in plans)
        failed = contracts.browse(contract.id for contract in errors)
        (planned - failed).filtered("billing_error")._write_privileged(
            {"billing_error": False, "billing_error_date": False}
        )
        for contract, message in errors.items():
            self._record_billing_error(contract, message, date_ref)

    @api.model
    def _close_fully_billed(self, contracts):
        to_close = contracts.filtered(
            lambda c: c.state == "running" and not c.auto_renew and c._is_fully_billed()
        )
        if to_close:
            to_close._write_state({"state": "closed"})
            # A log, not a message_post: the billing user has no email
            # address to send from, and nobody needs a notification here.
            body = _("Last period billed: the contract is closed.")
            to_close._message_log_batch(bodies=dict.fromkeys(to_close.ids, body))

    @api.model
    def _format_billing_error(self, error):
        if isinstance(error, UserError | ValidationError):
            return str(error.args[0]) if error.args else str(error)
        return _("Unexpected error: %(error)s", error=str(error) or repr(error))

    @api.model
    def _record_billing_error(self, contract, message, date_ref):
        """Flag the contract, tell its salesperson, and move on: the contract
        is retried on the next run."""
        _logger.info(
            "Contract %s (id %s) not billed: %s", contract.name, contract.id, message
        )
        is_new = contract.billing_error != message
        contract._write_privileged(
            {"billing_error": message, "billing_error_date": date_ref}
        )
        if not is_new:
            return
        # A log, not a message_post (the billing user has no email address to
        # send from): the activity below is what warns the salesperson.
        contract._message_log(
            body=Markup("%s<br/>%s")
            % (_("The contract could not be invoiced:"), message),
        )
        # The assignment email needs a sender address; the billing user has
        # none, so the activity then only shows in Odoo (systray, the "To
        # review" filter) instead of failing the whole batch.
        contract.with_context(
            mail_activity_quick_update=not self.env.user.partner_id.email
        ).activity_schedule(
            "mail.mail_activity_data_warning",
            user_id=(contract.user_id or self.env.user).id,
            summary=_("Contract could not be invoiced"),
            note=message,
        )
