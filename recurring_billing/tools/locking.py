# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one way the addon's workers claim rows: ``FOR NO KEY UPDATE`` with
``SKIP LOCKED`` (or ``NOWAIT``), so that several workers share the work
without waiting for each other, and a row another worker holds is simply
not theirs this time. Used by the billing engine (contracts), the charging
service (invoices, unanswered attempts) and the job queue bridge.

``NO KEY UPDATE`` rather than ``UPDATE``: the rows that reference the
claimed ones (invoices, ledger rows, attempts) can still be inserted by
other transactions while the claim is held."""

from psycopg2 import errors as pg_errors

from odoo.tools import SQL


def claim(model, domain, order="id", limit=None):
    """Lock and return the records of ``model`` matching ``domain`` that no
    other transaction holds, in ``order``, at most ``limit``. A row another
    transaction committed since our snapshot began raises a serialization
    failure: the caller decides whether to retry (``tools.concurrency``)."""
    query = model._search(domain, order=order, limit=limit)
    sql = SQL(
        "%s FOR NO KEY UPDATE OF %s SKIP LOCKED",
        query.select(),
        SQL.identifier(model._table),
    )
    model.env.flush_query(sql)
    # Expected under concurrency and handled by the caller: not an error
    # worth a log line (as ir.cron's own job acquisition).
    model.env.cr.execute(sql, log_exceptions=False)
    return model.browse(row[0] for row in model.env.cr.fetchall())


def lock(records, nowait=False):
    """Lock ``records``; returns those locked: with ``nowait`` all of them
    or none, otherwise those no other transaction holds (``SKIP LOCKED``)."""
    if not records:
        return records
    records.flush_recordset()
    try:
        with records.env.cr.savepoint(flush=False):
            records.env.cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id IN %s ORDER BY id "
                    "FOR NO KEY UPDATE %s",
                    SQL.identifier(records._table),
                    tuple(records.ids),
                    SQL("NOWAIT") if nowait else SQL("SKIP LOCKED"),
                ),
                log_exceptions=False,
            )
            locked_ids = {row[0] for row in records.env.cr.fetchall()}
    except pg_errors.LockNotAvailable:
        return records.browse()
    return records.filtered(lambda record: record.id in locked_ids)
