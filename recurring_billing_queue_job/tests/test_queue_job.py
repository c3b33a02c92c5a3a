# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The daily run as queue_job jobs: what the scheduled action enqueues (one
job per batch of one company and journal, no duplicate), and the jobs run
for real (``Job.perform``, as the job runner does) against the ledger."""

from datetime import date
from unittest.mock import patch

from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job
from odoo.addons.recurring_billing.tests.common import RecurringBillingCommon

DAY = date(2026, 3, 1)
ENGINE = "recurring.billing.engine"


@tagged("post_install", "-at_install")
class TestRecurringBillingQueueJob(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The engine's smallest batch: 5 invoices.
        cls.env["ir.config_parameter"].set_param("recurring_billing.batch_size", "5")
        cls.journal_2 = cls.journal.copy({"name": "Sales 2", "code": "SAL2"})
        # Seven contracts on the default sales journal, two on the second,
        # all due for March 2026 only (started on March 1st).
        cls.contracts = cls.Contract.browse()
        for journal in (cls.journal,) * 7 + (cls.journal_2,) * 2:
            cls.contracts |= cls.create_contract(
                start=DAY, journal_id=journal.id, invoice_action="post"
            )

    def _jobs(self):
        # queue.job is for job managers: read as the superuser.
        return (
            self.env["queue.job"]
            .with_user(SUPERUSER_ID)
            .search(
                [("model_name", "=", ENGINE), ("method_name", "=", "_job_bill_batch")],
                order="id",
            )
        )

    def _perform(self, records):
        """Run the jobs as the job runner does (``Job.perform``) and mark
        them done; returns their results."""
        results = []
        for record in records:
            job = Job.load(self.env, record.uuid)
            job.set_started()
            job.store()
            results.append(job.perform())
            job.set_done()
            job.store()
        return results

    def _run(self):
        # As ir.cron runs it: as the superuser (the engine then bills, and
        # here enqueues, as its billing user).
        return self.env[ENGINE].with_user(SUPERUSER_ID)._run_scheduled(date_ref=DAY)

    def test_run_enqueues_one_job_per_batch_and_no_invoice(self):
        self.assertEqual(self._run(), 3)
        jobs = self._jobs()
        # Batch size 5: two jobs for the seven contracts of the first
        # journal, one for the two of the second.
        self.assertEqual(
            sorted((job.args[1], job.args[3]) for job in jobs),
            sorted(
                [(self.journal.id, 0), (self.journal.id, 1), (self.journal_2.id, 0)]
            ),
        )
        self.assertEqual(set(jobs.mapped("channel")), {"root.recurring_billing"})
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        self.assertEqual({job.args[2] for job in jobs}, {"2026-03-01"})
        self.assertTrue(all(job.identity_key for job in jobs))
        # The jobs bill as the billing user, not as whoever ran the action.
        self.assertEqual(
            jobs.user_id, self.env.ref("recurring_billing.user_billing_bot")
        )
        self.assertFalse(self.contracts.invoice_ids)

    def test_second_run_enqueues_no_duplicate(self):
        self._run()
        self._run()
        self.assertEqual(len(self._jobs()), 3)

    def test_jobs_bill_each_period_once(self):
        self._run()
        results = self._perform(self._jobs())
        self.assertEqual(
            sorted(results),
            sorted(
                [
                    "5 invoice(s) for 5 contract(s)",
                    "2 invoice(s) for 2 contract(s)",
                    "2 invoice(s) for 2 contract(s)",
                ]
            ),
        )
        moves = self.contracts.invoice_ids
        self.assertEqual(len(moves), 9)
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        # 100.0 + 15% tax (product_a's) on each.
        self.assertEqual(moves.mapped("amount_total"), [115.0] * 9)
        self.assertEqual(
            sorted(moves.journal_id.mapped("code")), sorted(["INV", "SAL2"])
        )
        for contract in self.contracts:
            self.assertPeriods(contract, [(DAY, date(2026, 3, 31))])
            self.assertEqual(contract.next_invoice_date, date(2026, 4, 1))
        # Nothing due any more: a new run enqueues nothing, a job run again
        # (a retry after its commit was lost) bills nothing.
        self.assertEqual(self._run(), 0)
        self.assertEqual(len(self._jobs()), 3)
        engine = self.env[ENGINE].with_user(self._jobs()[0].user_id)
        self.assertEqual(
            engine._job_bill_batch(self.env.company.id, self.journal.id, "2026-03-01"),
            "0 invoice(s) for 0 contract(s)",
        )
        self.assertEqual(len(self.contracts.invoice_ids), 9)

    def test_backlog_gets_a_follow_up_job(self):
        # The nine contracts billed beforehand (without jobs); two more
        # started in January owe three months each on March 1st: six
        # invoices, five per job.
        self.bill(self.contracts, DAY)
        contracts = self.create_contract(
            start=date(2026, 1, 1), journal_id=self.journal_2.id
        ) | self.create_contract(start=date(2026, 1, 1), journal_id=self.journal_2.id)
        self.assertEqual(self._run(), 1)
        first = self._jobs()
        self.assertEqual(self._perform(first), ["5 invoice(s) for 2 contract(s)"])
        # The second contract's third month: one follow-up job, of the first.
        follow_up = self._jobs() - first
        self.assertEqual(follow_up.args[3], f"after {first.uuid}")
        self.assertEqual(self._perform(follow_up), ["1 invoice(s) for 1 contract(s)"])
        self.assertEqual(len(self._jobs()), 2)
        self.assertEqual(len(contracts.invoice_ids), 6)
        for contract in contracts:
            self.assertPeriods(
                contract,
                [
                    (date(2026, 1, 1), date(2026, 1, 31)),
                    (date(2026, 2, 1), date(2026, 2, 28)),
                    (date(2026, 3, 1), date(2026, 3, 31)),
                ],
            )

    def test_every_batch_left_owing_gets_its_own_follow_up(self):
        # Found by fault case 10: four contracts started in January owe
        # three months each, six started in March one: 18 invoices for ten
        # contracts, two jobs of five contracts. Each of the two leaves its
        # batch owing (five invoices per job); a single follow-up for the
        # group (one identity key) billed five more and left three contracts
        # due with no job.
        self.bill(self.contracts, DAY)
        backlog = self.Contract.browse()
        for _i in range(4):
            backlog |= self.create_contract(
                start=date(2026, 1, 1), journal_id=self.journal_2.id
            )
        fresh = self.Contract.browse()
        for _i in range(6):
            fresh |= self.create_contract(start=DAY, journal_id=self.journal_2.id)
        self.assertEqual(self._run(), 2)
        for _i in range(10):
            pending = self._jobs().filtered(lambda job: job.state == "pending")
            if not pending:
                break
            self._perform(pending[:1])
        self.assertFalse(self._jobs().filtered(lambda job: job.state != "done"))
        self.assertEqual(len((backlog | fresh).invoice_ids), 18)
        self.assertEqual(len(self._jobs()), 4)
        for contract in backlog | fresh:
            self.assertEqual(contract.next_invoice_date, date(2026, 4, 1))
        self.assertEqual(self._run(), 0)

    def test_concurrency_error_is_retried_later(self):
        self._run()
        record = self._jobs()[:1]
        job = Job.load(self.env, record.uuid)
        Engine = type(self.env[ENGINE])
        with (
            patch.object(
                Engine,
                "_bill_batch",
                side_effect=pg_errors.SerializationFailure("could not serialize"),
            ),
            self.assertRaises(RetryableJobError) as caught,
        ):
            job.perform()
        self.assertFalse(caught.exception.ignore_retry)
        self.assertFalse(self.contracts.invoice_ids)
