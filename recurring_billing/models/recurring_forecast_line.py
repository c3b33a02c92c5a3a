# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL


class RecurringForecastLine(models.Model):
    """One contract line of an invoice the engine will issue in the next
    12 months, as the billing schedule tab shows it: the periods come from
    the schedule core (``_iter_periods``) and the untaxed amounts from
    ``_get_line_untaxed_amounts``, the code that bills them. Rebuilt on demand
    (Refresh forecast) and every day by a scheduled action; never edited."""

    _name = "recurring.forecast.line"
    _description = "Recurring Revenue Forecast Line"
    _order = "date, contract_id, id"
    _rec_name = "contract_id"

    contract_id = fields.Many2one(
        comodel_name="recurring.contract",
        string="Contract",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(
        comodel_name="res.company", required=True, readonly=True, index=True
    )
    partner_id = fields.Many2one(
        comodel_name="res.partner", string="Customer", readonly=True, index=True
    )
    user_id = fields.Many2one(
        comodel_name="res.users", string="Salesperson", readonly=True
    )
    template_id = fields.Many2one(
        comodel_name="recurring.contract.template",
        string="Template",
        readonly=True,
    )
    product_id = fields.Many2one(
        comodel_name="product.product", string="Product", readonly=True
    )
    date = fields.Date(
        string="Invoice Date",
        required=True,
        readonly=True,
        index=True,
        help="The day the engine will bill the period (today for a period "
        "already due).",
    )
    period_start = fields.Date(readonly=True)
    period_end = fields.Date(readonly=True)
    currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount = fields.Monetary(
        string="Untaxed Amount",
        readonly=True,
        help="In the company's currency, at the latest rate known for the "
        "invoice date.",
    )
    contract_currency_id = fields.Many2one(
        comodel_name="res.currency", string="Contract Currency", readonly=True
    )
    amount_currency = fields.Monetary(
        string="Amount (Contract Currency)",
        currency_field="contract_currency_id",
        readonly=True,
    )

    @api.model
    def action_refresh(self):
        """The 'Refresh forecast' menu: rebuild, then show the forecast."""
        self._refresh()
        return self.env["ir.actions.act_window"]._for_xml_id(
            "recurring_billing.action_recurring_forecast_line"
        )

    @api.model
    def _cron_refresh(self):
        """The scheduled action ``ir_cron_refresh_revenue``: the forecast
        and the MRR field both follow the calendar."""
        self._refresh(companies=self.env["res.company"].search([]))
        self.env["recurring.contract"]._cron_refresh_mrr()

    @api.model
    def _refresh(self, companies=None, date_from=None, months=12):
        """Rebuild the forecast of ``companies`` (default: the user's) from
        ``date_from`` (default: each company's own today) for ``months``."""
        companies = companies or self.env.companies
        Contract = self.env["recurring.contract"]
        self.check_access("read")
        # sudo: the forecast is rebuilt whole for the companies, whatever
        # contracts the user may see (the right to read the forecast is
        # checked above: internal users only); what each user sees of it is
        # filtered by its record rules.
        Forecast = self.sudo()
        vals_list = []
        for company in companies:
            day = date_from or company._get_recurring_today()
            horizon = day + relativedelta(months=months)
            contracts = (
                Contract.sudo()
                .with_company(company)
                .search(
                    [
                        ("company_id", "=", company.id),
                        ("state", "in", ("running", "paused")),
                    ]
                )
            )
            for contract in contracts:
                vals_list += self._prepare_contract_rows(contract, day, horizon)
        Forecast.flush_model()
        self.env.execute_query(
            SQL(
                "DELETE FROM recurring_forecast_line WHERE company_id IN %s",
                tuple(companies.ids),
            )
        )
        ids = []
        for start in range(0, len(vals_list), 5000):
            ids += self._insert_rows(vals_list[start : start + 5000])
        Forecast.invalidate_model()
        return Forecast.browse(ids)

    @api.model
    def _insert_rows(self, vals_list):
        """Insert rows by SQL: a forecast of 10,000 contracts is some 200,000
        rows a day, read-only, with no computed field and nothing to track;
        the ORM's create would take minutes of a scheduled action."""
        columns = list(vals_list[0])
        uid = self.env.uid
        rows = SQL(", ").join(
            SQL(
                "(%s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')",
                SQL(", ").join(
                    None if vals[column] is False else vals[column]
                    for column in columns
                ),
                uid,
                uid,
            )
            for vals in vals_list
        )
        return [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "INSERT INTO recurring_forecast_line (%s, create_uid, write_uid, "
                    "create_date, write_date) VALUES %s RETURNING id",
                    SQL(", ").join(SQL.identifier(column) for column in columns),
                    rows,
                )
            )
        ]

    @api.model
    def _get_contract_periods(self, contract, horizon):
        """The periods the engine will bill before ``horizon``: the voided
        ones first, then the schedule's (an automatic renewal extends the
        term, so its periods go on past the end date)."""
        periods = [
            contract._get_period(row.period_index)
            for row in contract.period_ids.sorted("period_index")
            if row.state == "voided" and row.kind == "period"
        ]
        for period in contract._iter_periods(renewing=True):
            if period.invoice_date >= horizon:
                break
            periods.append(period)
        return [p for p in periods if p]

    @api.model
    def _prepare_contract_rows(self, contract, day, horizon):
        rows = []
        company = contract.company_id
        off_windows = contract._get_off_windows()
        for period in self._get_contract_periods(contract, horizon):
            # A period already due is billed by the next run, that is today.
            invoice_date = max(period.invoice_date, day)
            # Untaxed as on the invoice: a price that includes its tax is split.
            amounts = contract._get_line_untaxed_amounts(period, off_windows)
            for line, amount in amounts.items():
                rows.append(
                    {
                        "contract_id": contract.id,
                        "company_id": company.id,
                        "partner_id": contract.commercial_partner_id.id,
                        "user_id": contract.user_id.id,
                        "template_id": contract.template_id.id,
                        "product_id": line.product_id.id,
                        "date": invoice_date,
                        "period_start": period.date_start,
                        "period_end": period.date_end,
                        "contract_currency_id": contract.currency_id.id,
                        "amount_currency": amount,
                        "amount": contract.currency_id._convert(
                            amount, company.currency_id, company, invoice_date
                        ),
                    }
                )
        return rows
