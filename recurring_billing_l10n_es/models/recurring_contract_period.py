# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class RecurringContractPeriod(models.Model):
    _inherit = "recurring.contract.period"

    # The ledger shows where each invoice stands with the tax agency.
    edi_state = fields.Selection(related="move_id.edi_state", string="E-invoicing")
    edi_blocking_level = fields.Selection(related="move_id.edi_blocking_level")
    # VERI*FACTU (OCA's l10n_es_verifactu_oca, through l10n_es_aeat): not a
    # related field, since the bridge does not depend on those modules.
    aeat_state = fields.Selection(
        selection="_get_aeat_state_selection",
        string="AEAT",
        compute="_compute_aeat_state",
        help="Where the invoice's VERI*FACTU record stands with the AEAT: "
        "not sent, sent (accepted), accepted with errors, incorrect (rejected).",
    )

    @api.model
    def _get_aeat_state_selection(self):
        field = self.env["account.move"]._fields.get("aeat_state")
        return field._description_selection(self.env) if field else []

    def _compute_aeat_state(self):
        with_state = "aeat_state" in self.env["account.move"]._fields
        for period in self:
            period.aeat_state = (
                with_state and period.move_id.aeat_state if period.move_id else False
            ) or False
