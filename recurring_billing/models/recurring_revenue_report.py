# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..core import schedule


class RecurringRevenueReport(models.AbstractModel):
    """Revenue analytics over the MRR movements: the figures of a period
    (net MRR growth, logo and revenue churn, ARR, ARPA) and the dashboard's
    data, each in a few SQL aggregates over the movements the user may
    read (record rules applied), never a Python loop per contract.

    The MRR on a day is the sum of the movements dated on or before it;
    a customer (logo) is a commercial partner with MRR above zero.
    """

    _name = "recurring.revenue.report"
    _description = "Recurring Revenue Analytics"

    @api.model
    def _get_movements_query(self, company, date_to):
        """The movements of ``company`` up to ``date_to`` the user may read,
        as a sub-query (partner_id, contract_id, date, kind, mrr_change)."""
        Movement = self.env["recurring.mrr.movement"]
        # Movements are written by the ORM: flush them before reading by SQL.
        Movement.flush_model()
        query = Movement._search(
            [("company_id", "=", company.id), ("date", "<=", date_to)]
        )
        return query.select(
            *(
                SQL("%s AS %s", SQL.identifier(query.table, name), SQL(name))
                for name in ("partner_id", "contract_id", "date", "kind", "mrr_change")
            )
        )

    @api.model
    def _get_metrics(self, date_from, date_to, company=None):
        """The figures of the period ``date_from``..``date_to`` (both
        included) in the company's currency, in one query:

        - ``mrr_start``: MRR the day before ``date_from``; ``mrr_end``: on
          ``date_to``; ``arr``: 12 x ``mrr_end``;
        - ``new``, ``expansion``, ``reactivation`` (positive),
          ``contraction``, ``churn`` (negative): the movements of the period;
          ``net_growth``: their sum, ``mrr_end - mrr_start``;
        - ``logos_start``/``logos_end``: customers with MRR above zero;
          ``churned_logos``: those with MRR at the start and none at the end;
          ``logo_churn_rate``: churned_logos / logos_start, in %;
        - ``revenue_churn_rate``: (churn + contraction) / mrr_start, in %
          (gross revenue churn); ``net_growth_rate``: net_growth / mrr_start;
        - ``arpa``: mrr_end / logos_end; ``active_contracts``: contracts
          with MRR above zero on ``date_to``.
        """
        company = company or self.env.company
        [row] = self.env.execute_query(
            SQL(
                """
                WITH m AS (%(movements)s),
                per_partner AS (
                    SELECT partner_id,
                           COALESCE(SUM(mrr_change) FILTER (
                               WHERE date < %(date_from)s), 0) AS mrr_start,
                           SUM(mrr_change) AS mrr_end
                      FROM m
                  GROUP BY partner_id
                ),
                per_contract AS (
                    SELECT contract_id, SUM(mrr_change) AS mrr_end
                      FROM m
                  GROUP BY contract_id
                ),
                kinds AS (
                    SELECT kind, SUM(mrr_change) AS amount
                      FROM m
                     WHERE date >= %(date_from)s
                  GROUP BY kind
                )
                SELECT
                    (SELECT COALESCE(SUM(mrr_start), 0) FROM per_partner),
                    (SELECT COALESCE(SUM(mrr_end), 0) FROM per_partner),
                    (SELECT COUNT(*) FROM per_partner WHERE mrr_start > 0),
                    (SELECT COUNT(*) FROM per_partner WHERE mrr_end > 0),
                    (SELECT COUNT(*) FROM per_partner
                      WHERE mrr_start > 0 AND mrr_end <= 0),
                    (SELECT COUNT(*) FROM per_contract WHERE mrr_end > 0),
                    (SELECT COALESCE(json_object_agg(kind, amount), '{}')
                       FROM kinds)
                """,
                movements=self._get_movements_query(company, date_to),
                date_from=date_from,
            )
        )
        (
            mrr_start,
            mrr_end,
            logos_start,
            logos_end,
            churned_logos,
            active_contracts,
            kinds,
        ) = row
        currency = company.currency_id
        mrr_start, mrr_end = currency.round(mrr_start), currency.round(mrr_end)
        by_kind = {
            kind: currency.round(kinds.get(kind, 0.0)) for kind in schedule.MRR_KINDS
        }
        lost = -(by_kind["churn"] + by_kind["contraction"])
        return {
            "date_from": date_from,
            "date_to": date_to,
            "currency_id": currency.id,
            "mrr_start": mrr_start,
            "mrr_end": mrr_end,
            "arr": currency.round(12 * mrr_end),
            **by_kind,
            "net_growth": currency.round(mrr_end - mrr_start),
            "net_growth_rate": round(
                schedule.safe_rate(mrr_end - mrr_start, mrr_start), 2
            ),
            "logos_start": logos_start,
            "logos_end": logos_end,
            "churned_logos": churned_logos,
            "logo_churn_rate": round(schedule.safe_rate(churned_logos, logos_start), 2),
            "revenue_churn_rate": round(schedule.safe_rate(lost, mrr_start), 2),
            "arpa": currency.round(mrr_end / logos_end) if logos_end else 0.0,
            "active_contracts": active_contracts,
        }

    @api.model
    def _get_timeline(self, company, date_from, date_to):
        """[{month, new, expansion, ..., mrr}] for each month of
        ``date_from``..``date_to``: the movements by kind and the MRR at the
        month's end (one query; the running sum is over 12 rows)."""
        rows = self.env.execute_query(
            SQL(
                """
                WITH m AS (%(movements)s)
                SELECT date_trunc('month', date)::date AS month, kind,
                       SUM(mrr_change)
                  FROM m
                 WHERE date >= %(date_from)s
              GROUP BY 1, 2
                 UNION ALL
                SELECT NULL, NULL, COALESCE(SUM(mrr_change), 0)
                  FROM m
                 WHERE date < %(date_from)s
                """,
                movements=self._get_movements_query(company, date_to),
                date_from=date_from,
            )
        )
        currency = company.currency_id
        sums = {}
        mrr = 0.0
        for month, kind, amount in rows:
            if month is None:
                mrr = float(amount)
            else:
                sums[month, kind] = float(amount)
        timeline = []
        month = date_from.replace(day=1)
        while month <= date_to:
            row = {"month": fields.Date.to_string(month)}
            for kind in schedule.MRR_KINDS:
                row[kind] = currency.round(sums.get((month, kind), 0.0))
                mrr += row[kind]
            row["mrr"] = currency.round(mrr)
            timeline.append(row)
            month += relativedelta(months=1)
        return timeline

    @api.model
    def _get_forecast_by_month(self, company):
        """[{month, amount}] of the forecast (``recurring.forecast.line``)."""
        Forecast = self.env["recurring.forecast.line"]
        Forecast.flush_model()
        query = Forecast._search([("company_id", "=", company.id)])
        month = SQL(
            "date_trunc('month', %s)::date", SQL.identifier(query.table, "date")
        )
        rows = self.env.execute_query(
            SQL(
                "%s GROUP BY 1 ORDER BY 1",
                query.select(
                    month, SQL("SUM(%s)", SQL.identifier(query.table, "amount"))
                ),
            )
        )
        return [
            {"month": fields.Date.to_string(m), "amount": company.currency_id.round(a)}
            for m, a in rows
        ]

    @api.model
    def get_dashboard_data(self):
        """Everything the revenue dashboard shows, for the current company,
        in one call: the headline figures of this month and of the last 30
        days, the MRR timeline of the last 12 months by kind, and the
        forecast of the next 12 months by month."""
        company = self.env.company
        today = company._get_recurring_today()
        month = self._get_metrics(today.replace(day=1), today, company)
        last_30 = self._get_metrics(today - timedelta(days=29), today, company)
        currency = company.currency_id
        return {
            "today": fields.Date.to_string(today),
            "currency": {
                "symbol": currency.symbol,
                "position": currency.position,
                "digits": currency.decimal_places,
            },
            "this_month": {k: v for k, v in month.items() if "date" not in k},
            "last_30_days": {k: v for k, v in last_30.items() if "date" not in k},
            "timeline": self._get_timeline(
                company, today.replace(day=1) - relativedelta(months=11), today
            ),
            "forecast": self._get_forecast_by_month(company),
            "forecast_refreshed_at": self._get_forecast_refreshed_at(company),
        }

    @api.model
    def _get_forecast_refreshed_at(self, company):
        """When the forecast was last rebuilt (UTC, as Odoo's datetimes), or
        False before its first refresh."""
        row = self.env["recurring.forecast.line"].search_read(
            [("company_id", "=", company.id)],
            ["create_date"],
            order="create_date desc",
            limit=1,
        )
        return fields.Datetime.to_string(row[0]["create_date"]) if row else False
