# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta
from decimal import Decimal

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_amount, format_date

from ..core import indexation
from ..tools import compat

_logger = logging.getLogger(__name__)


@compat.sql_constraints(
    (
        "contract_date_unique",
        "unique(contract_id, date)",
        "A contract's prices are updated once per update date.",
    ),
)
class RecurringContractIndexation(models.Model):
    """A yearly price update of a contract: announced to the customer before
    its date, then applied by the billing engine before it bills the first
    period on or after that date, as effective-dated line changes (the old
    prices stay in the history). One row per contract and update date, under
    a unique index: reruns and concurrent workers apply an update once.

    The service methods (``_apply_due``, ``_send_notices``) take the
    contract; the arithmetic is ``core/indexation.py``."""

    _name = "recurring.contract.indexation"
    _description = "Contract Price Update"
    _order = "contract_id, date desc"
    _rec_name = "date"

    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        string="Contract",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="contract_id.company_id", store=True)
    currency_id = fields.Many2one(related="contract_id.currency_id")
    date = fields.Date(string="Update Date", required=True, readonly=True)
    date_effective = fields.Date(
        string="New Prices From",
        readonly=True,
        help="The start of the first period on or after the update date: a "
        "period already billed is never repriced.",
    )
    state = fields.Selection(
        selection=[("announced", "Announced"), ("applied", "Applied")],
        required=True,
        default="announced",
        readonly=True,
    )
    price_index_id = fields.Many2one(
        comodel_name="recurring.price.index", string="Price Index", readonly=True
    )
    reference_date = fields.Date(string="Reference Month", readonly=True)
    reference_month_name = fields.Char(
        string="Index Month",
        compute="_compute_reference_month_name",
        help="The month of the index value used, in the user's language.",
    )
    reference_value = fields.Float(digits=(16, 4), readonly=True)
    base_value = fields.Float(
        string="Value a Year Earlier", digits=(16, 4), readonly=True
    )
    index_rate = fields.Float(
        string="Variation (%)",
        digits=(16, 2),
        readonly=True,
        help="The index's variation over twelve months, or the fixed percentage.",
    )
    rate = fields.Float(
        string="Applied (%)",
        digits=(16, 2),
        readonly=True,
        help="The variation after the cap, the floor and the no-decrease rule.",
    )
    amount_before = fields.Monetary(
        string="Before", readonly=True, help="Untaxed amount per period."
    )
    amount_after = fields.Monetary(
        string="After", readonly=True, help="Untaxed amount per period."
    )
    notice_date = fields.Date(string="Customer Told On", readonly=True)

    @api.depends("reference_date")
    @api.depends_context("lang")
    def _compute_reference_month_name(self):
        for row in self:
            row.reference_month_name = (
                format_date(self.env, row.reference_date, date_format="MMMM y")
                if row.reference_date
                else False
            )

    # -------------------------------------------------------------------------
    # WHAT AN UPDATE IS
    # -------------------------------------------------------------------------

    @api.model
    def _get_update_dates(self, contract, after, until):
        """The contract's update dates in (``after``, ``until``]."""
        if contract.indexation_method == "none" or not contract.date_start:
            return []
        return indexation.update_dates(
            contract.date_start,
            update_month=int(contract.indexation_month or 0) or None,
            after=after,
            until=until,
        )

    @api.model
    def _compute_rate(self, contract, day):
        """The variation of the update on ``day``, before and after the
        clause's limits. Raises a UserError when an index value is missing:
        an update is never a silent 0 %."""
        vals = {"price_index_id": False, "reference_date": False}
        if contract.indexation_method == "fixed":
            rate = Decimal(str(contract.indexation_rate))
        else:
            index = contract.price_index_id
            reference = indexation.reference_month(
                day, int(contract.indexation_reference_month or 0) or None
            )
            base = indexation.base_month(reference)
            values = {month: index._get_value(month) for month in (base, reference)}
            for month, value in values.items():
                if value is None:
                    raise UserError(index._get_missing_value_message(month))
            rate = indexation.index_variation(values[reference], values[base])
            vals.update(
                price_index_id=index.id,
                reference_date=reference,
                reference_value=values[reference],
                base_value=values[base],
            )
        applied = indexation.limit_rate(
            rate,
            cap=contract.indexation_cap,
            floor=contract.indexation_floor,
            allow_decrease=contract.indexation_allow_decrease,
        )
        return {**vals, "index_rate": float(rate), "rate": float(applied)}

    @api.model
    def _get_lines_to_update(self, contract, effective):
        """The product lines billing on ``effective`` that started before it
        (a line starting then or later was priced at its start)."""
        return contract.line_ids.filtered(
            lambda line: not line.display_type
            and (line.date_start or contract.date_start) < effective
            and (not line.date_end or line.date_end >= effective)
        )

    @api.model
    def _get_subtotal(self, line, price_unit):
        """The line's untaxed amount at ``price_unit``, as the line computes
        its own (included taxes taken out)."""
        AccountTax = self.env["account.tax"]
        base_line = AccountTax._prepare_base_line_for_taxes_computation(
            line,
            price_unit=price_unit,
            quantity=line.quantity,
            discount=line.discount,
            currency_id=line.contract_id.currency_id,
            product_id=line.product_id,
            tax_ids=line.tax_ids,
        )
        AccountTax._add_tax_details_in_base_line(base_line, line.contract_id.company_id)
        return line.contract_id.currency_id.round(
            base_line["tax_details"]["raw_total_excluded_currency"]
        )

    @api.model
    def _prepare_update(self, contract, day, effective):
        """Values of the update on ``day`` with the new price of each line,
        as ``(vals, {line: new price})``."""
        vals = self._compute_rate(contract, day)
        digits = contract.currency_id.decimal_places
        lines = self._get_lines_to_update(contract, effective)
        prices = {
            line: indexation.indexed_price(line.price_unit, vals["rate"], digits)
            for line in lines
        }
        vals.update(
            contract_id=contract.id,
            date=day,
            date_effective=effective,
            amount_before=sum(line.price_subtotal for line in lines),
            amount_after=sum(
                self._get_subtotal(line, price) for line, price in prices.items()
            ),
        )
        return vals, prices

    @api.model
    def _get_first_period_start(self, contract, day):
        """The start of the first period of the contract on or after ``day``,
        or None past its end."""
        for period in contract._iter_periods(from_index=0):
            if period.date_start >= day:
                return period.date_start
        return None

    # -------------------------------------------------------------------------
    # APPLIED BY THE ENGINE
    # -------------------------------------------------------------------------

    @api.model
    def _apply_due(self, contract, periods):
        """Apply the updates falling before the periods about to be billed
        (``periods``, from ``_get_due_periods``). Returns the messages of
        what blocks the contract's billing (a missing index value)."""
        if contract.indexation_method == "none":
            return []
        next_index = contract._get_next_period_index()
        periods = [p for p in periods if p.index >= next_index]
        if not periods:
            return []
        first = periods[0]
        # An update during the last period billed takes effect with the
        # first period not billed yet: billed periods keep their prices.
        previous = contract._get_period(first.index - 1) if first.index else None
        dates = self._get_update_dates(
            contract,
            previous.date_start if previous else contract.date_start,
            periods[-1].date_start,
        )
        done = {row.date: row for row in contract.indexation_ids if row.date in dates}
        for day in dates:
            row = done.get(day)
            if row and row.state == "applied":
                continue
            effective = next(p.date_start for p in periods if p.date_start >= day)
            try:
                vals, prices = self._prepare_update(contract, day, effective)
            except UserError as error:
                return [str(error.args[0])]
            self._apply_update(contract, row, vals, prices)
        return []

    @api.model
    def _apply_update(self, contract, row, vals, prices):
        for line, price in prices.items():
            if contract.currency_id.compare_amounts(price, line.price_unit):
                line._action_change(vals["date_effective"], {"price_unit": price})
        vals["state"] = "applied"
        if row:
            # sudo: the price updates are the engine's rows, read-only for
            # users as the ledger is; the run applies the contract's own
            # clause, whose lines it changed above as this user.
            row.sudo().write(vals)
        else:
            row = self._create_row(vals)
        # A log, not a message_post: the billing user has no email address
        # to send from, and the customer was told before (the notice).
        contract._message_log(body=row._get_summary())
        if not row.notice_date and contract.indexation_notice_days > 0:
            # Not announced (the contract came after its notice window, or a
            # late run): the customer is told now, with the new invoice.
            template = self.env.ref(
                "recurring_billing.mail_template_contract_indexation",
                raise_if_not_found=False,
            )
            if row._post_notice(template):
                # sudo: see above (the engine's row).
                row.sudo().notice_date = contract.company_id._get_recurring_today()
        return row

    @api.model
    def _create_row(self, vals):
        """Record an update (announced or applied). sudo: see
        ``_apply_update``; the row is returned without sudo."""
        return self.sudo().create(vals).sudo(False)

    def _get_summary(self):
        """One chatter line: what changed, by how much, from when."""
        self.ensure_one()
        if self.price_index_id:
            source = _(
                "%(index)s %(reference)s",
                index=self.price_index_id.display_name,
                reference=self.reference_date.strftime("%m/%Y"),
            )
        else:
            source = _("fixed percentage")
        # Formatted here: an f-string inside _() stops the term extraction.
        rate, variation = f"{self.rate:+.1f}", f"{self.index_rate:+.1f}"
        return Markup("%s") % _(
            "Prices from %(date)s: %(rate)s %% (%(origin)s, variation "
            "%(variation)s %%), %(before)s to %(after)s per period before taxes.",
            date=format_date(self.env, self.date_effective),
            rate=rate,
            variation=variation,
            origin=source,
            before=format_amount(self.env, self.amount_before, self.currency_id),
            after=format_amount(self.env, self.amount_after, self.currency_id),
        )

    # -------------------------------------------------------------------------
    # TOLD BEFORE
    # -------------------------------------------------------------------------

    @api.model
    def _send_notices(self, contracts, today):
        """Email each customer the old and new amounts of an update falling
        within the contract's notice days, once per update (its row records
        it). An update whose index value is not published yet is announced as
        soon as it is, on a later day within the window."""
        template = self.env.ref(
            "recurring_billing.mail_template_contract_indexation",
            raise_if_not_found=False,
        )
        for contract in contracts.filtered(lambda c: c.indexation_notice_days > 0):
            until = today + timedelta(contract.indexation_notice_days)
            known = set(contract.indexation_ids.mapped("date"))
            for day in self._get_update_dates(contract, today, until):
                effective = self._get_first_period_start(contract, day)
                if day in known or not effective:
                    continue
                try:
                    vals, _prices = self._prepare_update(contract, day, effective)
                except UserError:
                    continue  # not published yet: tried again tomorrow
                row = self._create_row({**vals, "notice_date": today})
                row._post_notice(template)

    def _post_notice(self, template):
        """Email the customer the update (posted on the contract). Returns
        whether an email went out."""
        self.ensure_one()
        contract = self.contract_id
        contract._message_log(
            body=Markup("%s<br/>%s")
            % (_("Price update announced to the customer:"), self._get_summary())
        )
        if not template or not contract.partner_id.email:
            return False
        email_from = template._render_field("email_from", self.ids)[self.id]
        if not email_from and not self.env.user.email:
            # No address to send from (the billing user has none): posting
            # would fail and undo the billing with it.
            _logger.warning(
                "No sender address for %s: set the company's email", contract.name
            )
            return False
        contract.message_post(
            body=template._render_field("body_html", self.ids, compute_lang=True)[
                self.id
            ],
            subject=template._render_field("subject", self.ids, compute_lang=True)[
                self.id
            ],
            partner_ids=contract.partner_id.ids,
            # A message to the customer, as the other notices: the portal's
            # history shows comments, not notifications.
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_from=email_from or None,
        )
        return True
