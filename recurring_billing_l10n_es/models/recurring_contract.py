# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models


class RecurringContract(models.Model):
    _inherit = "recurring.contract"

    edi_error_count = fields.Integer(
        string="Rejected E-invoices",
        compute="_compute_edi_error_count",
        help="Invoices of the contract whose electronic submission (SII, "
        "TicketBAI...) failed or was rejected.",
    )

    def _get_rejected_invoices(self):
        """The contract's invoices with an EDI document in error (a
        rejection by the tax agency, or a submission that cannot be made)."""
        return self.invoice_ids.filtered(
            lambda move: move.edi_document_ids.filtered(
                lambda doc: doc.blocking_level == "error"
                and doc.state in ("to_send", "to_cancel")
            )
        )

    @api.depends(
        "invoice_ids.edi_document_ids.blocking_level",
        "invoice_ids.edi_document_ids.state",
    )
    def _compute_edi_error_count(self):
        for contract in self:
            contract.edi_error_count = len(contract._get_rejected_invoices())

    @api.depends(
        "invoice_ids.edi_document_ids.blocking_level",
        "invoice_ids.edi_document_ids.state",
    )
    def _compute_has_billing_error(self):
        # A rejected invoice is a billing problem to review, like a failed
        # run (the "To review" filter, the list's red rows).
        super()._compute_has_billing_error()
        for contract in self.filtered(lambda c: not c.has_billing_error):
            contract.has_billing_error = bool(contract._get_rejected_invoices())

    def action_view_rejected_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self._get_rejected_invoices().ids)]
        action["context"] = {"create": False}
        return action

    def _get_partner_billing_blockers(self):
        """What a Spanish invoice needs from the customer: a complete invoice
        (factura completa, Royal Decree 1619/2012, article 6) states the
        customer's NIF (VAT number) and address; a public administration
        invoiced through FACe (Facturae) needs its administrative centres."""
        blockers = super()._get_partner_billing_blockers()
        if self.company_id.account_fiscal_country_id.code != "ES":
            return blockers
        partner = self.partner_id
        commercial = partner.commercial_partner_id
        name = partner.display_name
        if not partner.country_id:
            blockers.append(
                _(
                    "The customer %(partner)s has no country: a Spanish invoice "
                    "states the customer's full address.",
                    partner=name,
                )
            )
        if not (partner.street and partner.zip and partner.city):
            blockers.append(
                _(
                    "The address of the customer %(partner)s is incomplete "
                    "(street, postcode and city): a Spanish invoice states it.",
                    partner=name,
                )
            )
        # A foreign individual may be invoiced without a tax number; a Spanish
        # customer or any company may not.
        if not commercial.vat and (
            partner.country_id.code == "ES" or commercial.is_company
        ):
            blockers.append(
                _(
                    "The customer %(partner)s has no NIF/VAT number: a complete "
                    "Spanish invoice states it.",
                    partner=commercial.display_name,
                )
            )
        blockers += self._get_facturae_blockers()
        return blockers

    def _get_facturae_blockers(self):
        """FACe centres, only when Odoo's Facturae module is installed."""
        commercial = self.partner_id.commercial_partner_id
        if "l10n_es_edi_facturae_ac_center_code" not in commercial._fields:
            return []
        if commercial.invoice_edi_format != "es_facturae":
            return []
        centres = commercial.child_ids.filtered(lambda c: c.type == "facturae_ac")
        if centres:
            return []
        return [
            _(
                "The customer %(partner)s is invoiced through FACe (Facturae) "
                "but has no administrative centres: add the DIR3 codes of its "
                "accounting office, managing body and processing unit as "
                "contacts of type FACe Center.",
                partner=commercial.display_name,
            )
        ]
