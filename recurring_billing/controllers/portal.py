# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from urllib.parse import quote

from odoo import _, http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager


class RecurringContractPortal(CustomerPortal):
    # -------------------------------------------------------------------------
    # HOME
    # -------------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "recurring_contract_count" in counters:
            Contract = request.env["recurring.contract"]
            # The portal record rule limits the count to the user's company.
            values["recurring_contract_count"] = (
                Contract.search_count(self._prepare_contracts_domain())
                if Contract.has_access("read")
                else 0
            )
        return values

    def _prepare_contracts_domain(self, state_filter=None):
        domain = [("state", "in", ("running", "paused", "closed"))]
        if state_filter == "running":
            domain = [("state", "in", ("running", "paused"))]
        elif state_filter == "closed":
            domain = [("state", "=", "closed")]
        return domain

    def _get_contract_searchbar_sortings(self):
        return {
            "date": {"label": _("Start Date"), "order": "date_start desc, id desc"},
            "name": {"label": _("Reference"), "order": "name"},
            "next": {"label": _("Next Invoice"), "order": "next_invoice_date"},
        }

    def _get_contract_searchbar_filters(self):
        return {
            "all": {"label": _("All")},
            "running": {"label": _("Running")},
            "closed": {"label": _("Closed")},
        }

    def _get_contract_portal_invoices(self, contract_sudo):
        """The contract's invoices made out to its customer. A contract handed
        over to another customer keeps its former customer's invoices: the
        page (read as sudo, with each invoice's access token in its links)
        must not show them to the new one."""
        return contract_sudo._get_portal_invoices().filtered(
            lambda move: move.commercial_partner_id
            == contract_sudo.commercial_partner_id
        )

    # -------------------------------------------------------------------------
    # ROUTES
    # -------------------------------------------------------------------------

    @http.route(
        ["/my/contracts", "/my/contracts/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_contracts(self, page=1, sortby=None, filterby=None, **kw):
        Contract = request.env["recurring.contract"]
        sortings = self._get_contract_searchbar_sortings()
        filters = self._get_contract_searchbar_filters()
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "all"
        domain = self._prepare_contracts_domain(filterby)
        pager = portal_pager(
            url="/my/contracts",
            url_args={"sortby": sortby, "filterby": filterby},
            total=Contract.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        # No sudo: the portal record rule decides what the user may list.
        contracts = Contract.search(
            domain,
            order=sortings[sortby]["order"],
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        request.session["my_contracts_history"] = contracts.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "contracts": contracts,
                "page_name": "recurring_contract",
                "pager": pager,
                "default_url": "/my/contracts",
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "searchbar_filters": filters,
                "filterby": filterby,
            }
        )
        return request.render("recurring_billing.portal_my_contracts", values)

    @http.route(
        ["/my/contracts/<int:contract_id>"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_contract_page(
        self, contract_id, access_token=None, report_type=None, download=False, **kw
    ):
        try:
            # Either the record rule grants read, or the token matches:
            # only then is a sudo record returned.
            contract_sudo = self._document_check_access(
                "recurring.contract", contract_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        if report_type in ("html", "pdf", "text"):
            return self._show_report(
                model=contract_sudo,
                report_type=report_type,
                report_ref="recurring_billing.action_report_recurring_contract",
                download=download,
            )
        values = self._get_page_view_values(
            contract_sudo,
            access_token,
            {
                "contract": contract_sudo,
                "page_name": "recurring_contract",
                "invoices": self._get_contract_portal_invoices(contract_sudo),
                # A cancellation requested: the invoices up to its date, as
                # the customer asked (closing then is the salesperson's).
                "forecast": contract_sudo._get_forecast_periods(
                    12, until=contract_sudo.cancel_request_effective_date
                ),
                "report_type": "html",
                "res_company": contract_sudo.company_id,
            },
            "my_contracts_history",
            False,
        )
        return request.render("recurring_billing.portal_contract_page", values)

    # -------------------------------------------------------------------------
    # GETTING PAID: saved payment method, cancellation request
    # -------------------------------------------------------------------------

    def _get_contract_sudo_or_none(self, contract_id, access_token):
        """The contract as sudo when the record rule or the access token
        grants it (the portal's own check), else None."""
        try:
            return self._document_check_access(
                "recurring.contract", contract_id, access_token=access_token
            )
        except (AccessError, MissingError):
            return None

    def _may_act_on_contract(self, contract_sudo):
        """True when the logged-in user reaches the contract through the
        portal record rule (its customer), not only through a link with the
        access token: a link reads the contract, only the customer acts."""
        user = request.env.user
        return not user._is_public() and contract_sudo.with_user(user).has_access(
            "read"
        )

    def _redirect_to_login(self, contract_sudo, path):
        return request.redirect(
            "/web/login?redirect=" + quote(f"{contract_sudo.access_url}/{path}")
        )

    def _get_contract_payment_tokens(self, contract_sudo):
        """The customer's saved payment methods the contract may use: of its
        commercial partner, of an enabled provider of its company."""
        return (
            request.env["payment.token"]
            .sudo()  # read for the contract's own customer only (domain)
            .search(
                [
                    (
                        "partner_id",
                        "child_of",
                        contract_sudo.commercial_partner_id.id,
                    ),
                    ("provider_id.company_id", "=", contract_sudo.company_id.id),
                    ("provider_id.state", "in", ("enabled", "test")),
                ]
            )
        )

    @http.route(
        ["/my/contracts/<int:contract_id>/payment_method"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_contract_payment_method(
        self, contract_id, access_token=None, token_id=None, **kw
    ):
        contract_sudo = self._get_contract_sudo_or_none(contract_id, access_token)
        if contract_sudo is None:
            return request.redirect("/my")
        tokens = self._get_contract_payment_tokens(contract_sudo)
        error = False
        if request.httprequest.method == "POST":
            if not self._may_act_on_contract(contract_sudo):
                return self._redirect_to_login(contract_sudo, "payment_method")
            token = tokens.filtered(lambda t: str(t.id) == str(token_id))
            if token_id not in ("0", None) and not token:
                error = _("This payment method cannot be used for this contract.")
            else:
                # sudo: customers do not write contracts; the contract was
                # checked above and the token is one of its customer's own.
                contract_sudo.payment_token_id = token
                contract_sudo.message_post(
                    body=_(
                        "The customer chose to be charged automatically on %(token)s.",
                        token=token.display_name,
                    )
                    if token
                    else _("The customer stopped the automatic charges."),
                    author_id=request.env.user.partner_id.id,
                )
                return request.redirect(
                    contract_sudo.get_portal_url(query_string="&payment_method_saved=1")
                )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "contract": contract_sudo,
                "tokens": tokens,
                "access_token": access_token,
                "error": error,
                "page_name": "recurring_contract",
            }
        )
        return request.render(
            "recurring_billing.portal_contract_payment_method", values
        )

    @http.route(
        ["/my/contracts/<int:contract_id>/cancel"],
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_contract_cancel(self, contract_id, access_token=None, reason=None, **kw):
        contract_sudo = self._get_contract_sudo_or_none(contract_id, access_token)
        if contract_sudo is None:
            return request.redirect("/my")
        error = False
        if request.httprequest.method == "POST":
            if not self._may_act_on_contract(contract_sudo):
                return self._redirect_to_login(contract_sudo, "cancel")
            try:
                # sudo (checked above): customers do not write contracts.
                contract_sudo._request_cancellation(reason)
            except UserError as exc:
                error = exc.args[0]
            else:
                return request.redirect(
                    contract_sudo.get_portal_url(query_string="&cancel_requested=1")
                )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "contract": contract_sudo,
                "access_token": access_token,
                "error": error,
                "reason": reason or "",
                "effective_date": contract_sudo._get_effective_close_date(
                    contract_sudo.company_id._get_recurring_today()
                ),
                "page_name": "recurring_contract",
            }
        )
        return request.render("recurring_billing.portal_contract_cancel", values)
