# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import SUPERUSER_ID, api, models
from odoo.tools import SQL, config

from ..tools.concurrency import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

# Seconds one invoice took to bill in this process, per database (a moving
# average): sizes the batches so that a cron run fits its time limit.
_SECONDS_PER_INVOICE = {}
# ... and the last measure saved in the database, for a restarted worker.
SPEED_PARAM = "recurring_billing.seconds_per_invoice"
# Before any measure, and the least a measure counts for (a batch of
# invoices that bill nothing can be timed at about zero).
DEFAULT_SECONDS_PER_INVOICE = 0.05
MIN_SECONDS_PER_INVOICE = 0.001


class RecurringBillingEngine(models.AbstractModel):
    """How many invoices a batch of the billing engine may hold: a setting,
    lowered by the speed this process measured on its last batches, so that
    the ten calls of a cron run fit its time limit on a loaded machine.
    A file of its own because it is its own concern: a measure kept per
    process and per database."""

    _inherit = "recurring.billing.engine"

    @api.model
    def _get_batch_size(self):
        """Invoices per batch: ``recurring_billing.batch_size`` (default 100),
        lowered so that the 10 calls ir.cron makes per run take at most 40 %
        of ``limit_time_real_cron``, at the speed this process measured on its
        last batches (a loaded machine gets smaller batches, not timeouts)."""
        size = int(
            self.env["ir.config_parameter"]
            .sudo()  # technical setting, read-only use
            .get_param("recurring_billing.batch_size", 100)
        )
        seconds_per_invoice = self._get_seconds_per_invoice()
        fitting = self._get_cron_time_limit() * 0.4 / 10 / seconds_per_invoice
        return max(5, min(size, int(fitting)))

    @api.model
    def _get_seconds_per_invoice(self):
        """This process's measure, else the last one any worker saved (a
        worker restarted after a timeout must not start at full size)."""
        dbname = self.env.cr.dbname
        if dbname not in _SECONDS_PER_INVOICE:
            saved = (
                self.env["ir.config_parameter"]
                .sudo()  # technical setting, read-only use
                .get_param(SPEED_PARAM)
            )
            try:
                measure = float(saved) if saved else DEFAULT_SECONDS_PER_INVOICE
            except ValueError:
                measure = DEFAULT_SECONDS_PER_INVOICE
            _SECONDS_PER_INVOICE[dbname] = measure
        return max(_SECONDS_PER_INVOICE[dbname], MIN_SECONDS_PER_INVOICE)

    @api.model
    def _set_measured_speed(self, seconds_per_invoice):
        """Set this process's measure for this database (``None``: forget
        it, as a new process would). Returns the previous one, for a caller
        that puts it back."""
        dbname = self.env.cr.dbname
        previous = _SECONDS_PER_INVOICE.get(dbname)
        if seconds_per_invoice is None:
            _SECONDS_PER_INVOICE.pop(dbname, None)
        else:
            _SECONDS_PER_INVOICE[dbname] = seconds_per_invoice
        return previous

    @api.model
    def _record_batch_speed(self, seconds, invoice_count):
        """Keep a moving average of the seconds one invoice takes to bill, and
        save it when it moved by a fifth (in its own short transaction: the
        batch's may still roll back, and two workers must not conflict on
        one row)."""
        if not invoice_count:
            return
        previous = self._get_seconds_per_invoice()
        current = 0.7 * previous + 0.3 * seconds / invoice_count
        self._set_measured_speed(current)
        if abs(current - previous) > previous / 5:
            self._save_speed(current)

    @api.model
    def _save_speed(self, seconds_per_invoice):
        """Upsert the parameter in plain SQL: ``set_param`` would clear every
        ormcache of the registry (and tell the other workers to clear theirs),
        which slows down the very billing being measured. A process reads the
        value once, when it has no measure of its own."""
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(
                    SQL(
                        "INSERT INTO ir_config_parameter "
                        "(key, value, create_uid, write_uid, create_date, write_date) "
                        "VALUES (%s, %s, %s, %s, now() at time zone 'UTC', "
                        "now() at time zone 'UTC') "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "
                        "write_date = EXCLUDED.write_date",
                        SPEED_PARAM,
                        f"{seconds_per_invoice:.6f}",
                        SUPERUSER_ID,
                        SUPERUSER_ID,
                    ),
                    log_exceptions=False,
                )
        except CONCURRENCY_ERRORS:
            # Another worker saved its own measure at the same moment: good
            # enough, the next batch saves again.
            _logger.debug("batch speed not saved: another worker was saving")

    @api.model
    def _get_cron_time_limit(self):
        limit = config.get("limit_time_real_cron") or -1
        if limit <= 0:
            limit = config.get("limit_time_real") or 120
        return limit if limit > 0 else 120
