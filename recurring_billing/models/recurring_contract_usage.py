# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_date

from ..core import schedule, usage
from ..tools import compat

# Fields of a usage record that say what was used: frozen once billed.
USAGE_FACT_FIELDS = {"line_id", "date", "quantity", "reference"}
# The billing mark, written by the engine (_mark_billed) and cleared by voiding
# a period (_set_ledger_state), and the stored copies of the line's contract:
# never written by users.
USAGE_ENGINE_FIELDS = {"period_id", "move_line_id", "contract_id", "company_id"}


@dataclass
class UsageGroup:
    """The records of one usage line on one day, billed or not, as read by
    the batch's grouped query: enough to aggregate them by period."""

    day: object
    order: int
    total: float
    peak: float
    last: float
    billed: bool
    ids: list = field(default_factory=list)
    line_id: int = 0

    def value(self, aggregation):
        return {"sum": self.total, "max": self.peak, "last": self.last}[aggregation]


@dataclass(frozen=True)
class UsageCharge:
    """What one usage line bills for one usage period on one invoice."""

    line: object
    period: schedule.Period
    used: float
    units: float
    amount: float
    usage_ids: tuple
    late: bool = False


@compat.sql_constraints(
    (
        "reference_line_uniq",
        "UNIQUE(line_id, reference)",
        "This usage record was already sent: its reference is already "
        "recorded on this contract line.",
    ),
)
class RecurringContractUsage(models.Model):
    """A usage record: what was used on a day on a usage line (API calls,
    hours, a meter reading). Written by integrators (XML-RPC/JSON-RPC, with
    ``record_usage`` to send a record twice safely), by Odoo's import and by
    other modules (the timesheet bridge). The invoice that bills it is
    recorded on it, in the same transaction as the invoice: billed once."""

    _name = "recurring.contract.usage"
    _description = "Recurring Contract Usage"
    _order = "date desc, id desc"
    _check_company_auto = True

    line_id = fields.Many2one(
        comodel_name="recurring.contract.line",
        string="Contract Line",
        required=True,
        ondelete="restrict",
        index=True,
        domain="[('quantity_type', '=', 'usage')]",
    )
    contract_id = fields.Many2one(
        related="line_id.contract_id", store=True, index=True, string="Contract"
    )
    company_id = fields.Many2one(related="line_id.contract_id.company_id", store=True)
    partner_id = fields.Many2one(
        related="line_id.contract_id.partner_id", string="Customer"
    )
    product_id = fields.Many2one(related="line_id.product_id")
    date = fields.Date(
        required=True,
        default=lambda self: self.env.company._get_recurring_today(),
        index=True,
    )
    quantity = fields.Float(required=True, digits="Product Unit of Measure")
    reference = fields.Char(
        required=True,
        help="Your identifier of the record (an event id, a meter reading id): "
        "unique per contract line, so a record sent twice is stored once.",
    )
    period_id = fields.Many2one(
        comodel_name="recurring.contract.period",
        string="Billed by",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
        help="The ledger row of the invoice that billed this record.",
    )
    move_line_id = fields.Many2one(
        comodel_name="account.move.line",
        string="Invoice Line",
        readonly=True,
        copy=False,
        ondelete="set null",
    )
    move_id = fields.Many2one(related="move_line_id.move_id", string="Invoice")
    state = fields.Selection(
        selection=[("pending", "To Bill"), ("billed", "Billed")],
        compute="_compute_state",
        search="_search_state",
    )

    @api.depends("period_id")
    def _compute_state(self):
        for record in self:
            record.state = "billed" if record.period_id else "pending"

    def _search_state(self, operator, value):
        if operator not in ("=", "!=") or value not in ("pending", "billed"):
            raise UserError(_("Unsupported search on the usage state."))
        billed = (value == "billed") == (operator == "=")
        return [("period_id", "!=" if billed else "=", False)]

    @api.depends("line_id", "date", "reference")
    def _compute_display_name(self):
        for record in self:
            record.display_name = f"{record.reference} ({record.date})"

    # -------------------------------------------------------------------------
    # CONSTRAINTS AND CRUD
    # -------------------------------------------------------------------------

    @api.constrains("line_id", "date", "quantity")
    def _check_usage(self):
        for record in self:
            line = record.line_id
            contract = line.contract_id
            if line.quantity_type != "usage":
                raise ValidationError(
                    _(
                        "The line '%(line)s' of %(contract)s is not billed on "
                        "usage: it takes no usage records.",
                        line=line.name,
                        contract=contract.name,
                    )
                )
            if record.quantity < 0:
                raise ValidationError(
                    _(
                        "A usage quantity cannot be negative (%(reference)s).",
                        reference=record.reference,
                    )
                )
            # Within the dates of the line's family: a record sent to a line
            # after a change from a date belongs to the line continuing it.
            family = line._get_usage_family()
            starts = [ln.date_start or contract.date_start for ln in family]
            start = min(filter(None, starts), default=None)
            ends = [ln.date_end for ln in family]
            end = None if not all(ends) else max(ends)
            end = min(filter(None, [end, contract.date_end]), default=None)
            if (start and record.date < start) or (end and record.date > end):
                raise ValidationError(
                    _(
                        "The usage %(reference)s is dated %(date)s, outside the "
                        "dates of the line '%(line)s' of %(contract)s.",
                        reference=record.reference,
                        date=record.date,
                        line=line.name,
                        contract=contract.name,
                    )
                )
            if contract.state == "closed" and not record.period_id:
                # Nothing bills a closed contract again: refused rather than
                # kept "To Bill" forever.
                raise ValidationError(
                    _(
                        "Contract %(contract)s is closed: no invoice would bill "
                        "the usage %(reference)s dated %(date)s. Renew the "
                        "contract to bill it.",
                        contract=contract.name,
                        reference=record.reference,
                        date=format_date(self.env, record.date),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            if any(USAGE_ENGINE_FIELDS & set(vals) for vals in vals_list):
                raise UserError(
                    _("A usage record is marked billed only by the billing run.")
                )
            # The contract first: whether a reference exists on a contract
            # the user may not write is not theirs to learn.
            self._check_lines_writable(
                {vals.get("line_id") for vals in vals_list} - {None, False}
            )
        self._check_new_references(vals_list)
        return super().create(vals_list)

    def _check_lines_writable(self, line_ids):
        """The usage lines records are attached to: written by the user
        (their contract's rules) and of the records' company."""
        lines = self.env["recurring.contract.line"].browse(line_ids)
        lines.check_access("write")
        for record in self:
            if lines.company_id - record.company_id:
                raise UserError(
                    _(
                        "A usage record cannot move to a contract of another "
                        "company (%(reference)s).",
                        reference=record.reference,
                    )
                )

    @api.model
    def _check_new_references(self, vals_list):
        """A clear error for a reference already recorded on its line or on
        a line of its family (the unique index still decides under
        concurrency on one line; this says it in words for forms, RPC and
        imports). One query for the whole list."""
        # sudo: to refuse a duplicate, not to show it.
        Line = self.env["recurring.contract.line"].sudo()
        family_of = {}

        def family_key(line_id):
            if line_id not in family_of:
                line = Line.browse(line_id).exists()
                family = line._get_usage_family() if line else line
                for member in family:
                    family_of[member.id] = family[:1].id
                family_of.setdefault(line_id, line_id)
            return family_of[line_id]

        pairs = [
            (family_key(vals.get("line_id")), vals.get("reference"))
            for vals in vals_list
        ]
        line_ids = [line_id for line_id in family_of if line_id]
        seen = set()
        existing = {
            (family_key(record.line_id.id), record.reference)
            for record in self.sudo().search(
                [
                    ("line_id", "in", line_ids),
                    ("reference", "in", [ref for _key, ref in pairs if ref]),
                ]
            )
        }
        for pair in pairs:
            if pair in existing or pair in seen:
                raise ValidationError(
                    _(
                        "The usage record %(reference)s was already sent: its "
                        "reference is already recorded on this contract line.",
                        reference=pair[1],
                    )
                )
            seen.add(pair)

    def write(self, vals):
        if not self.env.su:
            if USAGE_ENGINE_FIELDS & set(vals):
                raise UserError(
                    _(
                        "A usage record is marked billed only by the billing "
                        "run, and freed only by voiding its period."
                    )
                )
            if vals.get("line_id"):
                self._check_lines_writable({vals["line_id"]})
        if USAGE_FACT_FIELDS & set(vals) and self.filtered("period_id"):
            raise UserError(
                _(
                    "A billed usage record cannot be changed: send a new record "
                    "(it goes on the next invoice)."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_billed(self):
        if self.filtered("period_id"):
            raise UserError(_("A billed usage record cannot be deleted."))

    @api.model
    def record_usage(self, vals_list):
        """Create usage records, ignoring those already recorded (same line
        and reference): what an integrator calls to send a record safely
        again (a retry after a timeout). Returns the ids, in the order of
        ``vals_list``: the existing record's id for a duplicate. Safe under
        concurrency: the unique index decides, and the loser reads the
        winner's record."""
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        ids = []
        Line = self.env["recurring.contract.line"]
        for vals in vals_list:
            line = Line.browse(vals.get("line_id")).exists()
            family = line._get_usage_family() if line else line
            domain = [
                ("line_id", "in", family.ids or [vals.get("line_id")]),
                ("reference", "=", vals.get("reference")),
            ]
            existing = self.search(domain, limit=1)
            if not existing:
                try:
                    with self.env.cr.savepoint():
                        existing = self.create(vals)
                except (pg_errors.UniqueViolation, ValidationError):
                    # Another transaction stored it between our search and
                    # our insert: it is the record.
                    existing = self.search(domain, limit=1)
                    if not existing:
                        raise
            ids.append(existing.id)
        return ids

    # -------------------------------------------------------------------------
    # BILLING (called by the engine through the contract)
    # -------------------------------------------------------------------------

    @api.model
    def _read_batch_usage(self, contracts):
        """{line id: [UsageGroup]} of the usage lines of ``contracts``: the
        records not billed yet and, for late records, the billed ones of the
        same days on; one grouped query for the whole batch."""
        lines = contracts.line_ids.filtered(lambda line: line.quantity_type == "usage")
        if not lines:
            return {}
        self.flush_model(["line_id", "date", "quantity", "period_id"])
        Line, Contract = (
            self.env["recurring.contract.line"],
            self.env["recurring.contract"],
        )
        # Per contract, from the first day not billed yet, and the billed
        # records of the period it falls in (a period starts at most one
        # period length before any of its days): late records are rated with
        # their period's billed ones, those of every line of their family.
        self.env.cr.execute(
            SQL(
                """
                WITH bounds AS (
                    SELECT l.contract_id,
                           (MIN(p.date) - c.recurring_interval * CASE
                               c.recurring_rule_type
                               WHEN 'daily' THEN interval '1 day'
                               WHEN 'weekly' THEN interval '1 week'
                               WHEN 'monthly' THEN interval '1 month'
                               ELSE interval '1 year' END)::date - 1 AS since
                      FROM %(table)s p
                      JOIN %(lines)s l ON l.id = p.line_id
                      JOIN %(contracts)s c ON c.id = l.contract_id
                     WHERE p.line_id IN %(line_ids)s AND p.period_id IS NULL
                  GROUP BY l.contract_id, c.recurring_interval,
                           c.recurring_rule_type
                )
                SELECT u.line_id, u.date, u.period_id IS NOT NULL AS billed,
                       SUM(u.quantity), MAX(u.quantity),
                       (ARRAY_AGG(u.quantity ORDER BY u.id DESC))[1],
                       MAX(u.id), ARRAY_AGG(u.id ORDER BY u.id)
                  FROM %(table)s u
                  JOIN %(lines)s l ON l.id = u.line_id
                  JOIN bounds b ON b.contract_id = l.contract_id
                                AND u.date >= b.since
                 WHERE u.line_id IN %(line_ids)s
              GROUP BY u.line_id, u.date, u.period_id IS NOT NULL
              ORDER BY u.line_id, u.date
                """,
                table=SQL.identifier(self._table),
                lines=SQL.identifier(Line._table),
                contracts=SQL.identifier(Contract._table),
                line_ids=tuple(lines.ids),
            )
        )
        groups = defaultdict(list)
        for (
            line_id,
            day,
            billed,
            total,
            peak,
            last,
            order,
            ids,
        ) in self.env.cr.fetchall():
            groups[line_id].append(
                UsageGroup(day, order, total, peak, last, billed, list(ids), line_id)
            )
        return groups

    @api.model
    def _rate_window(self, contract, cutoff, billed_until, groups_by_line):
        """The usage charges of ``contract`` for records dated up to
        ``cutoff``, its usage being billed up to ``billed_until`` (or None):
        one charge per usage line family (a line and the lines continuing
        it) and usage period, the period's own included units, tiers and
        minimum, once (a period billed before is rated again with its late
        records, minus what it billed). The groups used are marked billed in
        ``groups_by_line``, so that a later period of the same batch does not
        bill them again."""
        charges = []
        rounding = contract.currency_id.rounding
        args = (contract.date_start, contract.recurring_rule_type)
        interval = contract.recurring_interval
        off_windows = contract._get_off_windows()
        # The usage periods whose invoice was voided, to be billed again.
        voided = {
            usage.period_index_of(
                *args, interval, contract._get_usage_cutoff(row, row.kind)
            )
            for row in contract.period_ids
            if row.state == "voided" and row.kind in ("period", "usage")
        }
        families = []
        for family in contract._get_usage_families().values():
            if family not in families:
                families.append(family)
        for family in families:
            groups = [
                group for line in family for group in groups_by_line.get(line.id, [])
            ]
            by_period = defaultdict(list)
            for group in groups:
                if group.day <= cutoff:
                    index = usage.period_index_of(*args, interval, group.day)
                    by_period[index].append(group)
            todo = {
                index
                for index, period_groups in by_period.items()
                if any(not g.billed for g in period_groups)
            }
            # Periods billed for the first time bill their minimum even
            # without any record (within the lines' own dates).
            first = usage.period_index_of(
                *args,
                interval,
                billed_until + timedelta(1) if billed_until else args[0],
            )
            last = usage.period_index_of(*args, interval, cutoff)
            if any(line.usage_minimum for line in family):
                todo.update(range(max(first, 0), last + 1))
                # ... and so do voided periods billed again.
                todo.update(i for i in voided if 0 <= i <= last)
            for index in sorted(todo):
                period = contract._get_period(index)
                line = period and family._get_usage_line_of(period)
                if not line:
                    continue
                period_groups = by_period.get(index, [])
                # A voided period is billed again as if never billed (its
                # invoice, minimum included, no longer stands), unless some
                # of its records were billed late by another invoice, which
                # stands: then only what they leave is added.
                billed_before = (
                    billed_until
                    and period.date_start <= billed_until
                    and not (
                        index in voided and not any(g.billed for g in period_groups)
                    )
                )
                # A period wholly paused bills what was used, no minimum.
                paused = not schedule.active_days(period, off_windows)
                charge = self._rate_period(
                    family, period, period_groups, rounding, billed_before, paused
                )
                if charge:
                    charges.append(charge)
                for group in period_groups:
                    group.billed = True
        return charges

    @api.model
    def _rate_period(
        self, family, period, groups, rounding, billed_before, paused=False
    ):
        """The charge of the line family ``family`` for ``period`` from its
        records ``groups`` (None when it bills nothing and bills no record):
        on the line in force at the end of the period, whose aggregation,
        included units and minimum are the period's."""
        line = family._get_usage_line_of(period)
        aggregation = line.usage_aggregation or "sum"

        def rows(selected):
            return [(g.day, g.order, g.value(aggregation), g.line_id) for g in selected]

        new = [g for g in groups if not g.billed]
        all_rows, billed_rows = rows(groups), rows(g for g in groups if g.billed)
        used = usage.aggregate([r[:3] for r in all_rows], aggregation)
        units = usage.billable_units(used, line.usage_included)
        if billed_before:
            amount = family._rate_usage_rows(
                all_rows, period, rounding, billed_rows, minimum=not paused
            )
            units -= usage.billable_units(
                usage.aggregate([r[:3] for r in billed_rows], aggregation),
                line.usage_included,
            )
        else:
            amount = family._rate_usage_rows(
                all_rows, period, rounding, minimum=not paused
            )
        if not new and not amount:
            return None
        return UsageCharge(
            line=line,
            period=period,
            used=used,
            units=max(units, 0.0),
            amount=amount,
            usage_ids=tuple(i for g in new for i in g.ids),
            late=bool(billed_before),
        )

    @api.model
    def _mark_billed(self, entries):
        """Record which ledger row and invoice line billed which usage:
        ``entries`` [(usage ids, period id, move line id or None)]. One
        UPDATE for the batch, guarded: a record billed meanwhile stops the
        whole batch (rolled back, never billed twice)."""
        usage_ids, period_ids, move_line_ids = [], [], []
        for ids, period_id, move_line_id in entries:
            usage_ids += ids
            period_ids += [period_id] * len(ids)
            move_line_ids += [move_line_id] * len(ids)
        if not usage_ids:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE %(table)s u
                   SET period_id = v.period_id, move_line_id = v.move_line_id,
                       write_uid = %(uid)s, write_date = now() at time zone 'UTC'
                  FROM unnest(%(ids)s::int[], %(periods)s::int[], %(lines)s::int[])
                       AS v(id, period_id, move_line_id)
                 WHERE u.id = v.id AND u.period_id IS NULL
                """,
                table=SQL.identifier(self._table),
                uid=self.env.uid,
                ids=usage_ids,
                periods=period_ids,
                lines=move_line_ids,
            )
        )
        if self.env.cr.rowcount != len(usage_ids):
            raise UserError(
                _("Usage records were billed by another process: billing again.")
            )
        self.browse(usage_ids).invalidate_recordset(["period_id", "move_line_id"])
