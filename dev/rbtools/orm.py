"""Odoo side of the tools: Odoo loaded from a configuration file (no server,
no HTTP), environments, and what the billing engine sees.

Odoo is imported from PYTHONPATH (``scripts/faults.sh`` and
``scripts/bench.sh`` put ``$ODOO_SRC`` there). "Due" is never recomputed
here: it is the addon's own domain, searched as the billing user, so the
tools count exactly what the scheduled action would still claim.
"""

from contextlib import contextmanager

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service.server import load_server_wide_modules
from odoo.tools import config

from . import BOT_XMLID


def boot(cfg, db=None, log_level="warn", extra=(), server_wide=False):
    """Load Odoo's configuration from ``cfg`` (plus ``extra`` command-line
    options) and, given ``db``, return its registry. ``server_wide``: load
    the server-wide modules first, as odoo-bin does."""
    config.parse_config(
        ["-c", cfg, f"--log-level={log_level}", "--no-http", *extra]
        + (["-d", db] if db else []),
        setup_logging=True,
    )
    if server_wide:
        load_server_wide_modules()
    return Registry(db) if db else None


@contextmanager
def odoo_env(db, uid=SUPERUSER_ID, context=None):
    """An environment on a fresh cursor, committed on a clean exit."""
    with Registry(db).cursor() as cr:
        yield api.Environment(cr, uid, dict(context or {}))


def billing_user(env):
    """The user the scheduled action bills as."""
    return env.ref(BOT_XMLID)


def billing_today(env):
    """The date the engine bills for: the company's today (its address's
    time zone), as the engine itself computes it."""
    return env.company._get_recurring_today()


def due_count(env, date_ref=None):
    """Contracts the scheduled action would still claim on ``date_ref``
    (default: the company's today), counted with the addon's own domain
    as the billing user: running, due, and not failed on that day already."""
    contracts = env["recurring.contract"].with_user(billing_user(env))
    date_ref = date_ref or billing_today(env)
    return contracts.search_count(contracts._get_contracts_to_invoice_domain(date_ref))
