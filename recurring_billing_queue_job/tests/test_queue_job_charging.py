# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Getting paid with the job queue: the charging scheduled action runs when
the jobs' invoices are posted (each job that posts triggers it, committed
with the job), not only when the jobs are enqueued, when nothing is posted
yet."""

from datetime import date

from odoo import SUPERUSER_ID
from odoo.tests import tagged

from odoo.addons.queue_job.job import Job
from odoo.addons.recurring_billing.tests.common import RecurringBillingCommon

DAY = date(2026, 3, 1)
ENGINE = "recurring.billing.engine"


@tagged("post_install", "-at_install")
class TestQueueJobCharging(RecurringBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("recurring_billing.batch_size", "5")
        # Seven contracts due for March 2026: two jobs of five and two.
        cls.contracts = cls.Contract.browse()
        for _i in range(7):
            cls.contracts |= cls.create_contract(start=DAY, invoice_action="post")

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
        """Run the jobs as the job runner does (``Job.perform``)."""
        for record in records:
            job = Job.load(self.env, record.uuid)
            job.set_started()
            job.store()
            job.perform()
            job.set_done()
            job.store()

    def _charging_triggers(self):
        cron = self.env.ref("recurring_billing.ir_cron_charge_invoices")
        return (
            self.env["ir.cron.trigger"]
            .with_user(SUPERUSER_ID)
            .search_count([("cron_id", "=", cron.id)])
        )

    def test_charging_is_triggered_when_the_jobs_post(self):
        self.env[ENGINE].with_user(SUPERUSER_ID)._run_scheduled(date_ref=DAY)
        jobs = self._jobs()
        self.assertEqual(len(jobs), 2)
        self.assertFalse(self.contracts.invoice_ids, "nothing posted at enqueue")
        before = self._charging_triggers()
        self._perform(jobs)
        invoices = self.contracts.invoice_ids
        self.assertEqual(len(invoices), 7)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        # One trigger per job that posted invoices.
        self.assertEqual(self._charging_triggers(), before + 2)
        # The same jobs again (a retry after a crash): nothing left to post,
        # nothing triggered.
        for record in jobs:
            self.env[ENGINE]._job_bill_batch(*record.args)
        self.assertEqual(self._charging_triggers(), before + 2)
        self.assertEqual(len(self.contracts.invoice_ids), 7)
