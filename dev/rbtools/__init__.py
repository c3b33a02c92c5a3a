"""Helpers shared by the project's tools: the fault suite (``dev/faults/``) and
the benchmark (``dev/bench/``). Not part of the addon, never installed.

- ``rbtools.db``: PostgreSQL (plain psycopg2, no Odoo): connections over the
  project's socket, SQL one-liners, databases created, cloned and dropped;
- ``rbtools.orm``: Odoo loaded from a configuration file, environments, and
  what the billing engine sees (its user, its "today", what is still due,
  computed through the addon's own domain);
- ``rbtools.invariants``: what must hold after any billing run, read from the
  tables with SQL: each (contract, period) billed once, ledger and invoices
  in agreement, numbering contiguous per journal.

``scripts/faults.sh`` and ``scripts/bench.sh`` put ``dev/`` on PYTHONPATH.
"""

BOT_XMLID = "recurring_billing.user_billing_bot"
CRON_XMLID = "recurring_billing.ir_cron_generate_invoices"
