# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What differs between Odoo 18.0 and 19.0, in one place.

The addon is one source for both series: the models, views and services
call these names and never test the version themselves. Each entry says
what 18.0 and 19.0 call the same thing.
"""

from odoo import models, release

ODOO_MAJOR = release.version_info[0]

# res.users' groups and res.groups' users (19.0 renamed both).
USER_GROUPS_FIELD = "group_ids" if ODOO_MAJOR >= 19 else "groups_id"

# Whether posting a customer invoice makes its customer a follower of it
# (18.0 does; 19.0 no longer does). The engine, which posts a batch at once,
# does the same as posting by hand on each series.
POSTING_SUBSCRIBES_CUSTOMER = ODOO_MAJOR < 19

# sale.order.line's unit and taxes (19.0 renamed both).
SALE_LINE_UOM_FIELD = "product_uom_id" if ODOO_MAJOR >= 19 else "product_uom"
SALE_LINE_TAXES_FIELD = "tax_ids" if ODOO_MAJOR >= 19 else "tax_id"

if ODOO_MAJOR >= 19:
    from odoo.fields import Domain

    def domain_and(domains):
        """The conjunction of ``domains``, as a list (a domain either series'
        ``search`` and list operations accept)."""
        return list(Domain.AND(domains))

    def domain_or(domains):
        """The disjunction of ``domains``, as a list."""
        return list(Domain.OR(domains))

else:
    from odoo.osv import expression

    def domain_and(domains):
        """The conjunction of ``domains``, as a list."""
        return expression.AND(domains)

    def domain_or(domains):
        """The disjunction of ``domains``, as a list."""
        return expression.OR(domains)


def sql_constraints(*constraints):
    """Declare a model's SQL constraints, given as 18.0's
    ``(name, definition, message)`` triples; a class decorator.

    18.0 reads them from ``_sql_constraints``; 19.0 from ``models.Constraint``
    attributes named ``_<name>``. Both name the database constraint
    ``<table>_<name>``, so a database keeps its constraints across an upgrade.
    """

    def declare(cls):
        if ODOO_MAJOR < 19:
            cls._sql_constraints = list(constraints)
            return cls
        for name, definition, message in constraints:
            constraint = models.Constraint(definition, message)
            setattr(cls, f"_{name}", constraint)
            # What the class statement does for an attribute written in it.
            constraint.__set_name__(cls, f"_{name}")
        return cls

    return declare


def allowed_uoms(product):
    """The units a line of ``product`` may be sold in: 18.0 those of its
    unit's category; 19.0 (no categories) its unit and its other units."""
    if ODOO_MAJOR >= 19:
        return product.uom_id | product.uom_ids
    return product.uom_id.category_id.uom_ids


def report_cron_progress(env, done, remaining):
    """Tell ir.cron how much a scheduled action's call did (``done``) and
    how much is left, so that it calls again while some remain.

    18.0's ``_notify_progress`` writes the counts and ir.cron commits after
    the call. 19.0 deprecates it for ``_commit_progress``, which commits
    itself, and outside a cron commits whatever is pending: it is called
    only under a cron, and in tests (which may not commit) the counts are
    written as ir.cron would.
    """
    cron = env["ir.cron"]
    if ODOO_MAJOR < 19:
        cron._notify_progress(done=done, remaining=remaining)
        return
    progress_id = env.context.get("ir_cron_progress_id")
    if not progress_id:
        return
    if env.context.get("cron_id") and env["account.move"]._can_commit():
        cron._commit_progress(done, remaining=remaining)
        return
    # ir.cron's own bookkeeping record: no user-facing data (as in
    # _commit_progress, which writes it as the superuser too).
    progress = env["ir.cron.progress"].sudo().browse(progress_id)
    progress.write({"done": progress.done + done, "remaining": remaining})


def charge_with_token(transaction):
    """Send a token payment request for ``transaction``: 19.0 wraps the
    provider's request in ``_charge_with_token`` (its checks and log), where
    18.0 calls ``_send_payment_request`` directly."""
    if ODOO_MAJOR >= 19:
        transaction._charge_with_token()
    else:
        transaction._send_payment_request()


def ran_before(installed_version, step):
    """Whether a database whose addon is at ``installed_version`` (with its
    series: ``18.0.1.2.0``) already ran the migration step ``step`` (without:
    ``1.1.0``).

    The migration folders are named without the series, so Odoo runs them on
    either; but it compares them with the series of the code being
    installed, and an upgrade from 18.0 to 19.0 would run every step again
    (``19.0.1.1.0`` is after ``18.0.1.2.0``). Each step asks this first."""
    if not installed_version:
        return False
    parts = installed_version.split(".")
    if len(parts) > 3:  # the series in front: 18.0.x.y.z
        parts = parts[2:]
    return tuple(map(int, parts)) >= tuple(map(int, step.split(".")))
