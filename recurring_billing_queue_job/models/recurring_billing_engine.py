# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import math
import random

from odoo import api, fields, models

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact
from odoo.addons.recurring_billing.tools import compat

CHANNEL = "root.recurring_billing"
# The slot of a follow-up job: a job whose batch still owes periods after it
# (a batch bills at most the batch size in invoices: a backlog) leaves one,
# keyed "after <its uuid>": one per such job, never one for the whole group.
# With one key per group (fault case 10, two HTTP workers), while a follow-up
# was pending the other jobs whose batch still owed left nothing, and the
# follow-up that ran billed the next due contracts, not necessarily theirs:
# contracts were left due with no job. Outside a job (called from code):
FOLLOW_UP = -1


class RecurringBillingEngine(models.AbstractModel):
    """The daily run as jobs: the scheduled action only enqueues, one job per
    batch of one company and journal; any number of job runners and servers
    bill them. Each job claims its batch exactly as the scheduled action does
    (``FOR NO KEY UPDATE SKIP LOCKED``) and bills it with ``_bill_batch``:
    the ledger's unique period index and the claim lock keep every period
    billed once, whatever the number of workers, retries or crashes."""

    _inherit = "recurring.billing.engine"

    @api.model
    def _run_scheduled(self, date_ref=None):
        if self.env.context.get("job_uuid"):
            # Inside a job (a job that calls the run itself): bill here.
            return super()._run_scheduled(date_ref)
        self = self._start_run(date_ref)  # noqa: PLW0642
        count = self._enqueue_billing_jobs(date_ref)
        # Nothing left for the scheduler: the jobs do the billing.
        compat.report_cron_progress(self.env, 0, 0)
        return count

    @api.model
    def _enqueue_billing_jobs(self, date_ref=None):
        """One job per batch of due contracts of one company and journal.
        The identity key (model, method, arguments: company, journal, date,
        slot) means a second run while they are pending enqueues nothing.
        Returns the number of jobs asked for."""
        groups = self.env["recurring.contract"]._read_group(
            self._get_due_domain(date_ref),
            groupby=["company_id", "journal_id"],
            aggregates=["__count"],
        )
        size = self._get_batch_size()
        asked = 0
        for company, journal, count in groups:
            day = date_ref or company._get_recurring_today()
            for slot in range(math.ceil(count / size)):
                self._delay_batch_job(company, journal, day, slot)
                asked += 1
        return asked

    @api.model
    def _delay_batch_job(self, company, journal, day, slot):
        self.with_company(company).with_delay(
            channel=CHANNEL,
            identity_key=identity_exact,
            description=self.env._(
                "Recurring billing: %(company)s, %(journal)s, %(date)s",
                company=company.name,
                journal=journal.name,
                date=fields.Date.to_string(day),
            ),
        )._job_bill_batch(company.id, journal.id, fields.Date.to_string(day), slot)

    @api.model
    def _job_bill_batch(self, company_id, journal_id, date_ref, slot=0):
        """The job: claim the next batch of due contracts of the company and
        journal, and bill it (in the job's transaction, committed by the job
        runner). Nothing left (other jobs took it): done. ``slot`` only tells
        the jobs of a group apart (their identity key): 0, 1, ... for the
        scheduled action's, "after <uuid>" for a follow-up.

        Every contract due is covered by a job: the scheduled action enqueues
        one per batch of the group's due contracts; a job that claims less
        than a batch found nothing more free (the rest is held by other
        jobs); a job whose batch still owes leaves a follow-up of its own; a
        job killed or rolled back is run again by the job runner."""
        company = self.env["res.company"].browse(company_id)
        journal = self.env["account.journal"].browse(journal_id)
        day = fields.Date.to_date(date_ref)
        engine = self.with_company(company)
        try:
            contracts = engine._claim_group_batch(company, journal, day)
            moves = engine._bill_batch(contracts, day) if contracts else []
        except Exception as error:
            if not engine._is_retryable_error(error):
                raise
            # Another worker committed the same rows, holds a lock posting
            # needs, or a deadlock: the job runner rolls the transaction back
            # and runs the job again later (the claim then skips what was
            # billed).
            raise RetryableJobError(
                str(error), seconds=random.randint(5, 30), ignore_retry=False
            ) from error
        if any(move.state == "posted" for move in moves):
            # The charging scheduled action runs once this job commits the
            # invoices it posted, not when the jobs were enqueued (nothing
            # was posted then): never in the posting transaction.
            self.env["recurring.payment.service"]._trigger_charging()
        if contracts and self.env["recurring.contract"].search_count(
            compat.domain_and(
                [self._get_due_domain(day), [("id", "in", contracts.ids)]]
            ),
            limit=1,
        ):
            # A backlog: contracts of this batch still owe periods (a batch
            # bills at most the batch size); the rest of the group has jobs
            # of its own. A follow-up of this job's own (see FOLLOW_UP).
            parent = self.env.context.get("job_uuid")
            self._delay_batch_job(
                company, journal, day, f"after {parent}" if parent else FOLLOW_UP
            )
        return self.env._(
            "%(invoices)s invoice(s) for %(contracts)s contract(s)",
            invoices=len(moves),
            contracts=len(contracts),
        )

    @api.model
    def _claim_group_batch(self, company, journal, day, limit=None):
        """Lock the next due contracts of ``company`` and ``journal`` (one
        batch at most), skipping those another worker holds."""
        domain = compat.domain_and(
            [
                self._get_due_domain(day),
                [("company_id", "=", company.id), ("journal_id", "=", journal.id)],
            ]
        )
        return self._search_locked(domain, limit=limit or self._get_batch_size())
