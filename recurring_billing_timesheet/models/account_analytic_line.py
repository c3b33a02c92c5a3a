# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

from odoo.addons.recurring_billing.tools import compat

# One usage record per timesheet line: its reference is the timesheet line's
# id, so pushing it again never stores it twice.
REFERENCE = "timesheet-{}"


class AccountAnalyticLine(models.Model):
    _inherit = "account.analytic.line"

    @api.model_create_multi
    def create(self, vals_list):
        timesheets = super().create(vals_list)
        timesheets._push_to_usage_lines()
        return timesheets

    def write(self, vals):
        res = super().write(vals)
        if {"unit_amount", "date", "project_id", "account_id"} & set(vals):
            self._push_to_usage_lines()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_usage_records(self):
        # A timesheet deleted before it is billed bills nothing; a billed one
        # stays billed (its usage record is the proof and cannot go).
        self._get_usage_records().filtered(lambda u: not u.period_id).unlink()

    def _get_usage_records(self):
        # sudo: timesheet users may not read contracts; the records are only
        # those of these timesheet lines, by their reference.
        return (
            self.env["recurring.contract.usage"]
            .sudo()
            .search([("reference", "in", [REFERENCE.format(t.id) for t in self])])
        )

    def _push_to_usage_lines(self, lines=None):
        """Create or update the usage record of each timesheet line on the
        usage lines it feeds (``lines``: only those). A record already billed
        is left as it is: the invoice stands."""
        timesheets = self.filtered("project_id")
        if not timesheets:
            return
        # sudo: the timesheet user may not read contracts; the check is the
        # match on the timesheet's own project or analytic account.
        Line = self.env["recurring.contract.line"].sudo()
        if lines is None:
            lines = Line.search(
                compat.domain_and(
                    [
                        [("quantity_type", "=", "usage")],
                        compat.domain_or(
                            [
                                [
                                    (
                                        "timesheet_project_id",
                                        "in",
                                        timesheets.project_id.ids,
                                    )
                                ],
                                [
                                    (
                                        "timesheet_account_id",
                                        "in",
                                        timesheets.account_id.ids,
                                    )
                                ],
                            ]
                        ),
                        [("contract_id.state", "!=", "closed")],
                    ]
                )
            )
        if not lines:
            return
        # Keyed by the line's family: after a change from a date the
        # timesheet's record may sit on the line the new one continues.
        existing = {
            (record.line_id.sudo()._get_usage_family()[:1], record.reference): record
            for record in timesheets._get_usage_records()
        }
        Usage = self.env["recurring.contract.usage"].sudo()
        to_create = []
        for line in lines.sudo():
            for timesheet in timesheets:
                if not line._feeds_on(timesheet):
                    continue
                reference = REFERENCE.format(timesheet.id)
                record = existing.get((line._get_usage_family()[:1], reference))
                vals = {"date": timesheet.date, "quantity": timesheet.unit_amount}
                if record:
                    if not record.period_id and (
                        record.date != timesheet.date
                        or record.quantity != timesheet.unit_amount
                    ):
                        record.write(vals)
                else:
                    to_create.append(
                        {**vals, "line_id": line.id, "reference": reference}
                    )
        if to_create:
            Usage.create(to_create)
