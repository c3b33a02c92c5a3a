# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class RecurringContractLine(models.Model):
    _inherit = "recurring.contract.line"

    timesheet_project_id = fields.Many2one(
        comodel_name="project.project",
        string="Timesheets of Project",
        check_company=True,
        index="btree_not_null",
        help="A usage line fed by the hours timesheeted on this project: one "
        "usage record per timesheet line.",
    )
    timesheet_account_id = fields.Many2one(
        comodel_name="account.analytic.account",
        string="Timesheets of Analytic Account",
        check_company=True,
        index="btree_not_null",
        help="A usage line fed by the hours timesheeted on any project of this "
        "analytic account: one usage record per timesheet line.",
    )

    @api.constrains("timesheet_project_id", "timesheet_account_id", "quantity_type")
    def _check_timesheet_source(self):
        for line in self:
            if (
                line.timesheet_project_id or line.timesheet_account_id
            ) and line.quantity_type != "usage":
                raise ValidationError(
                    _(
                        "Only a usage line can be fed by timesheets ('%(line)s').",
                        line=line.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_timesheet_targets(vals)
        lines = super().create(vals_list)
        lines._sync_timesheet_usage()
        return lines

    def write(self, vals):
        self._check_timesheet_targets(vals)
        res = super().write(vals)
        if {"timesheet_project_id", "timesheet_account_id"} & set(vals):
            # Hours timesheeted before the line was linked count too.
            self._sync_timesheet_usage()
        return res

    @api.model
    def _check_timesheet_targets(self, vals):
        """The user links only a project or an analytic account they may
        read (the company is checked by check_company)."""
        if self.env.su:
            return
        if vals.get("timesheet_project_id"):
            self.env["project.project"].browse(
                vals["timesheet_project_id"]
            ).check_access("read")
        if vals.get("timesheet_account_id"):
            self.env["account.analytic.account"].browse(
                vals["timesheet_account_id"]
            ).check_access("read")

    def _get_timesheet_domain(self):
        """The timesheet lines that feed this usage line."""
        self.ensure_one()
        sources = []
        if self.timesheet_project_id:
            sources.append([("project_id", "=", self.timesheet_project_id.id)])
        if self.timesheet_account_id:
            sources.append([("account_id", "=", self.timesheet_account_id.id)])
        # Only the contract's company's timesheets: an analytic account may be
        # shared between companies, their hours are not.
        domain = [
            ("project_id", "!=", False),
            ("company_id", "=", self.contract_id.company_id.id),
        ]
        if len(sources) == 2:
            domain += ["|"]
        return domain + [leaf for source in sources for leaf in source]

    def _sync_timesheet_usage(self):
        """Create the usage records of the timesheets of each fed line that
        have none yet: idempotent (the reference is the timesheet line's)."""
        fed = self.filtered(
            lambda line: line.quantity_type == "usage"
            and (line.timesheet_project_id or line.timesheet_account_id)
        )
        for line in fed:
            # sudo: a salesperson linking the project may not read every
            # timesheet; only their hours and dates are copied, to this line.
            timesheets = (
                self.env["account.analytic.line"]
                .sudo()
                .search(line._get_timesheet_domain())
            )
            timesheets._push_to_usage_lines(line)

    def _feeds_on(self, timesheet):
        """True when ``timesheet`` (an analytic line) feeds this usage line:
        its project or analytic account, within the line's dates."""
        self.ensure_one()
        contract = self.contract_id
        start = self.date_start or contract.date_start
        end = min(filter(None, [self.date_end, contract.date_end]), default=None)
        return (
            (
                timesheet.project_id == self.timesheet_project_id
                or (
                    self.timesheet_account_id
                    and timesheet.account_id == self.timesheet_account_id
                )
            )
            and timesheet.company_id == contract.company_id
            and bool(start)
            and start <= timesheet.date
            and (not end or timesheet.date <= end)
        )
