# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class RecurringContractPeriod(models.Model):
    _inherit = "recurring.contract.period"

    # The ledger shows where each invoice stands with the tax agency.
    edi_state = fields.Selection(related="move_id.edi_state", string="E-invoicing")
    edi_blocking_level = fields.Selection(related="move_id.edi_blocking_level")
