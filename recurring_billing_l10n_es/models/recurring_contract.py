# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models

from odoo.addons.recurring_billing.tools import compat

# The tax agency states (field aeat_state of OCA's l10n_es_aeat, which its
# VERI*FACTU and SII modules set on invoices) that need someone: the AEAT
# rejected the record, accepted it with errors (to be corrected), or
# refused its cancellation.
AEAT_REVIEW_STATES = ("incorrect", "sent_w_errors", "cancel_incorrect")


def _rejection_depends(model):
    depends = [
        "invoice_ids.edi_document_ids.blocking_level",
        "invoice_ids.edi_document_ids.state",
    ]
    if "aeat_state" in model.env["account.move"]._fields:
        depends.append("invoice_ids.aeat_state")
    return depends


class RecurringContract(models.Model):
    _inherit = "recurring.contract"

    edi_error_count = fields.Integer(
        string="Rejected E-invoices",
        compute="_compute_edi_error_count",
        help="Invoices of the contract whose electronic submission (SII, "
        "TicketBAI, VERI*FACTU...) failed or was rejected.",
    )
    has_rejected_invoices = fields.Boolean(
        string="Rejected by the tax agency",
        compute="_compute_edi_error_count",
        search="_search_has_rejected_invoices",
    )
    # Whether invoices carry an AEAT state (OCA's l10n_es_aeat installed):
    # the ledger's column shows only then.
    show_aeat_state = fields.Boolean(compute="_compute_show_aeat_state")

    def _compute_show_aeat_state(self):
        self.show_aeat_state = "aeat_state" in self.env["account.move"]._fields

    def _get_rejected_invoices_domain(self):
        """The contract's invoices with an EDI document in error (a
        rejection by the tax agency, or a submission that cannot be made),
        or, with OCA's tax agency modules (VERI*FACTU), an AEAT state to
        review."""
        domain = [
            (
                "edi_document_ids",
                "any",
                [
                    ("blocking_level", "=", "error"),
                    ("state", "in", ("to_send", "to_cancel")),
                ],
            )
        ]
        if "aeat_state" in self.env["account.move"]._fields:
            domain = compat.domain_or(
                [domain, [("aeat_state", "in", AEAT_REVIEW_STATES)]]
            )
        return domain

    def _get_rejected_invoices(self):
        """The invoices of ``_get_rejected_invoices_domain``, in memory."""
        with_aeat = "aeat_state" in self.env["account.move"]._fields
        return self.invoice_ids.filtered(
            lambda move: move.edi_document_ids.filtered(
                lambda doc: doc.blocking_level == "error"
                and doc.state in ("to_send", "to_cancel")
            )
            or (with_aeat and move.aeat_state in AEAT_REVIEW_STATES)
        )

    def _search_has_rejected_invoices(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Unsupported search on rejected invoices."))
        domain = [("invoice_ids", "any", self._get_rejected_invoices_domain())]
        if (operator == "=") != value:
            domain = ["!", *domain]
        return domain

    @api.depends(_rejection_depends)
    def _compute_edi_error_count(self):
        for contract in self:
            rejected = contract._get_rejected_invoices()
            contract.edi_error_count = len(rejected)
            contract.has_rejected_invoices = bool(rejected)

    @api.depends(_rejection_depends)
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
        blockers += self._get_verifactu_blockers()
        return blockers

    def _get_verifactu_blockers(self):
        """What a VERI*FACTU record needs, when OCA's l10n_es_verifactu_oca
        is installed and the company registers its invoices with it: the
        company's chain, developer (the invoicing software) and tax agency,
        and an identification of a foreign customer without a VAT number
        (passport, residence certificate: the AEAT identification type).
        Checked before billing: posting would refuse the invoice anyway,
        after the period was planned."""
        company = self.company_id
        if "verifactu_enabled" not in company._fields or not company.verifactu_enabled:
            return []
        blockers = []
        missing = [
            label
            for label, value in (
                (_("VERI*FACTU chaining"), company.verifactu_chaining_id),
                (_("VERI*FACTU developer"), company.verifactu_developer_id),
                (_("tax agency"), company.tax_agency_id),
            )
            if not value
        ]
        if missing:
            blockers.append(
                _(
                    "The company %(company)s registers its invoices with "
                    "VERI*FACTU but has no %(missing)s: set it in the "
                    "company's settings.",
                    company=company.name,
                    missing=", ".join(missing),
                )
            )
        commercial = self.partner_id.commercial_partner_id
        foreign = commercial.country_id and commercial.country_id.code != "ES"
        identified = commercial.vat or (
            commercial.aeat_identification_type and commercial.aeat_identification
        )
        if foreign and not identified:
            blockers.append(
                _(
                    "The foreign customer %(partner)s has no VAT number: a "
                    "VERI*FACTU record identifies them by another document. "
                    "Set its AEAT identification type and number (passport, "
                    "residence certificate...).",
                    partner=commercial.display_name,
                )
            )
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
