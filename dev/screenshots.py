#!/usr/bin/env python3
"""Screenshots of the recurring_billing addon, taken from a running demo server.

Usage (the demo server of ``scripts/demo.sh`` must be serving):

    .venv/bin/python dev/screenshots.py [--base-url URL] [--db DB] [--out DIR]

Drives a headless Chromium over the Chrome DevTools Protocol (websocket-client)
and talks JSON-RPC to Odoo with ``requests``. It produces, under ``--out``:

* contract_list.png              back office list of contracts
* contract_form.png              form of the contract of "Martínez Abogados S.L."
* contract_billing_schedule.png  the same form, "Billing schedule" tab
* contract_form_es.png           the same form with the admin user in Spanish
* contract_kanban.png            kanban by state, every state a column
* contract_new.png               a new contract before it is saved
* dialog_start.png, dialog_pause.png  the Start and Pause dialogs
* settings.png                   the recurring billing settings
* contract_list_es.png, contract_pivot_es.png  list and pivot in Spanish
* portal_home.png                the portal home with the contracts tile
* portal_contracts.png           /my/contracts as the customer's portal user
* portal_contract.png            /my/contracts/<id>, full page
* contract_pdf_page1.png         first page of the contract PDF (pdftoppm)
* apps_page.png                  Apps > search "Recurring Billing" > Module Info:
                                 the module's description page
                                 (static/description/index.html), whole page
* portal_contract_payment.png    getting paid: the contract page's payment part
* portal_payment_method.png      /my/contracts/<id>/payment_method
* portal_cancel.png              /my/contracts/<id>/cancel

* revenue_dashboard.png          the revenue dashboard
* mrr_movements_graph.png        MRR movements: timeline by month and kind
* mrr_movements_pivot.png        MRR movements: breakdown by month and kind
* revenue_forecast_pivot.png     forecast of the next 12 months by customer

``--only`` takes some of them, comma-separated: ``backoffice``,
``workspace``, ``portal``, ``apps``, ``payments``, ``revenue`` (default: all
but ``revenue``).
``revenue`` works on any database with contracts
(the README's come from the dashboard benchmark's 10,000 contracts:
``bash scripts/bench_dashboard.sh``, then an Odoo server on that database).

Side effects on the database, kept to a minimum: the admin user's language is
switched to en_US for the English shots and es_ES for the Spanish one, then
restored to what it was (en_US is activated meanwhile if the database has only
Spanish, then deactivated again); a portal user ``portal.martinez@example.com``
(password ``portal``) is created for the customer if it does not exist yet.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from browser import (
    PAGE_TIMEOUT,
    WINDOW,
    CDPError,
    Odoo,
    OdooError,
    browser_as,
    log,
)

CUSTOMER = "Martínez Abogados S.L."
PORTAL_LOGIN = "portal.martinez@example.com"
PORTAL_PASSWORD = "portal"
ACTION = "action-recurring_billing.action_recurring_contract"
# ---------------------------------------------------------------------------
# The shots
# ---------------------------------------------------------------------------

FORM_READY = '.o_form_view .o_form_sheet .o_field_widget[name="partner_id"]'


def browser_in(admin, args, lang):
    """A browser logged in as the admin user, switched to ``lang`` first: a
    new session after a language change (its context holds the language)."""
    admin.call("res.users", "write", [admin.uid], {"lang": lang})
    return browser_as(Odoo(admin.base_url, args.db, args.login, args.password))


def dialog_shot(browser, url, button, path):
    """The dialog that a button of the form's status bar opens."""
    browser.navigate(url)
    browser.wait_for(FORM_READY)
    browser.click(".o_statusbar_buttons button", button)
    browser.wait_for('.modal div[name="summary"]')
    browser.screenshot(path)


def apps_page_shot(browser, base, out):
    """Apps, the default "Apps" filter removed, search "Recurring Billing",
    the card's Module Info: the description page as Odoo shows it. Fails
    when one of its images does not load (a wrong relative src)."""
    browser.navigate(f"{base}/odoo/apps")
    browser.wait_for(".o_modules_kanban .o_kanban_record")
    # The action filters on applications; this addon is not one.
    browser.click(".o_searchview_facet .o_facet_remove")
    browser.wait_for(".o_searchview:not(:has(.o_searchview_facet))")
    browser.evaluate("document.querySelector('.o_searchview_input').focus()")
    browser.send("Input.insertText", {"text": "Recurring Billing"})
    for kind in ("keyDown", "keyUp"):
        browser.send(
            "Input.dispatchKeyEvent",
            {
                "type": kind,
                "key": "Enter",
                "code": "Enter",
                "windowsVirtualKeyCode": 13,
            },
        )
    card = (
        "[...document.querySelectorAll('.o_modules_kanban .o_kanban_record')]"
        ".filter(e => e.innerText.includes('Recurring Billing'))"
    )
    browser.wait_for(".o_searchview_facet")
    deadline = time.monotonic() + PAGE_TIMEOUT
    while browser.evaluate(f"{card}.length") != 1:
        if time.monotonic() > deadline:
            raise CDPError("Apps: no single 'Recurring Billing' card after the search")
        time.sleep(0.5)
    browser.evaluate(f"{card}[0].querySelector('.o_dropdown_kanban button').click()")
    browser.wait_for(".dropdown-menu .dropdown-item", settle=0.3)
    browser.click(".dropdown-menu .dropdown-item", text="Module Info")
    browser.wait_for('.o_form_view .o_field_widget[name="description_html"] img')
    images = "[...document.querySelectorAll('[name=\"description_html\"] img')]"
    deadline = time.monotonic() + PAGE_TIMEOUT
    while not browser.evaluate(f"{images}.every(i => i.complete)"):
        if time.monotonic() > deadline:
            raise CDPError("Apps: the description's images did not finish loading")
        time.sleep(0.5)
    broken = browser.evaluate(
        f"{images}.filter(i => !i.naturalWidth).map(i => i.getAttribute('src'))"
    )
    if broken:
        raise CDPError(f"Apps: images of the description did not load: {broken}")
    count = browser.evaluate(f"{images}.length")
    log(f"Apps: module info of Recurring Billing, {count} images loaded")
    browser.screenshot(out / "apps_page.png", full_page=True, max_height=12000)


def backoffice_shots(args, out, contract_id, shots=("backoffice", "apps")):
    base = args.base_url.rstrip("/")
    admin = Odoo(base, args.db, args.login, args.password)
    original_lang = admin.call("res.users", "read", [admin.uid], ["lang"])[0]["lang"]
    log(f"admin user {admin.uid}: language {original_lang}")
    # A database created with --load-language=es_ES has Spanish as its only
    # active language: English must then be activated for the English shots
    # (and is deactivated again at the end).
    langs = {
        lang["code"]: lang
        for lang in admin.call(
            "res.lang",
            "search_read",
            [["code", "in", ["en_US", "es_ES"]]],
            fields=["code", "active"],
            context={"active_test": False},
        )
    }
    if not langs.get("es_ES", {}).get("active"):
        sys.exit("es_ES is not active in this database: no Spanish screenshot possible")
    activated_en = not langs["en_US"]["active"]
    if activated_en:
        log("en_US is not active in this database: activating it for the English shots")
        admin.call("res.lang", "write", [langs["en_US"]["id"]], {"active": True})
    try:
        with browser_in(admin, args, "en_US") as browser:
            if "apps" in shots:
                apps_page_shot(browser, base, out)
            if "backoffice" not in shots:
                return
            browser.shoot(
                f"{base}/odoo/{ACTION}",
                ".o_list_view .o_data_row",
                out / "contract_list.png",
            )

            browser.shoot(
                f"{base}/odoo/{ACTION}/{contract_id}",
                FORM_READY,
                out / "contract_form.png",
            )

            browser.click('.o_notebook_headers a.nav-link[name="schedule"]')
            browser.wait_for(
                '.o_notebook_headers a.nav-link.active[name="schedule"]', settle=0
            )
            browser.wait_for('.o_notebook [name="period_ids"] .o_list_renderer')
            # Down to the end of the ledger: the forecast and the ledger.
            browser.screenshot(
                out / "contract_billing_schedule.png", until=".o_notebook"
            )

        with browser_in(admin, args, "es_ES") as browser:
            browser.shoot(
                f"{base}/odoo/{ACTION}/{contract_id}",
                FORM_READY,
                out / "contract_form_es.png",
            )
    finally:
        admin.call("res.users", "write", [admin.uid], {"lang": original_lang})
        log(f"admin user {admin.uid}: language restored to {original_lang}")
        if activated_en:
            try:
                admin.call(
                    "res.lang", "write", [langs["en_US"]["id"]], {"active": False}
                )
                log("en_US deactivated again")
            except OdooError as exc:
                log(f"warning: could not deactivate en_US again: {exc}")


def workspace_shots(args, out, contract_id):
    """The workspace as a new accountant meets it: the kanban with
    every state, a new contract before it is saved, the Start, Pause and
    Renew dialogs, the settings, and the Spanish list and pivot. A draft
    contract is created for the Start dialog and deleted at the end."""
    base = args.base_url.rstrip("/")
    admin = Odoo(base, args.db, args.login, args.password)
    original_lang = admin.call("res.users", "read", [admin.uid], ["lang"])[0]["lang"]
    source = admin.call(
        "recurring.contract", "read", [contract_id], ["partner_id", "line_ids"]
    )[0]
    lines = admin.call(
        "recurring.contract.line",
        "read",
        source["line_ids"],
        ["product_id", "quantity", "price_unit", "display_type", "name"],
    )
    draft_id = admin.call(
        "recurring.contract",
        "create",
        {
            "partner_id": source["partner_id"][0],
            "line_ids": [
                (
                    0,
                    0,
                    {
                        "product_id": line["product_id"] and line["product_id"][0],
                        "quantity": line["quantity"],
                        "price_unit": line["price_unit"],
                        "display_type": line["display_type"],
                        "name": line["name"],
                    },
                )
                for line in lines
            ],
        },
    )
    try:
        with browser_in(admin, args, "en_US") as browser:
            browser.shoot(
                f"{base}/odoo/{ACTION}?view_type=kanban",
                ".o_kanban_view .o_kanban_group",
                out / "contract_kanban.png",
            )

            browser.shoot(
                f"{base}/odoo/{ACTION}/new", FORM_READY, out / "contract_new.png"
            )

            dialog_shot(
                browser,
                f"{base}/odoo/{ACTION}/{draft_id}",
                "Start",
                out / "dialog_start.png",
            )

            dialog_shot(
                browser,
                f"{base}/odoo/{ACTION}/{contract_id}",
                "Pause",
                out / "dialog_pause.png",
            )

            # The block sits in Invoicing's settings.
            browser.navigate(f"{base}/odoo/settings#account")
            browser.wait_for('[name="recurring_reminder_days"]')
            browser.evaluate(
                "document.querySelector('[name=\"recurring_reminder_days\"]')"
                ".scrollIntoView({block: 'center'})"
            )
            time.sleep(1)
            browser.screenshot(out / "settings.png")

        with browser_in(admin, args, "es_ES") as browser:
            browser.shoot(
                f"{base}/odoo/{ACTION}",
                ".o_list_view .o_data_row",
                out / "contract_list_es.png",
            )
            browser.shoot(
                f"{base}/odoo/{ACTION}?view_type=pivot",
                ".o_pivot table",
                out / "contract_pivot_es.png",
            )
    finally:
        admin.call("res.users", "write", [admin.uid], {"lang": original_lang})
        admin.call("recurring.contract", "unlink", [draft_id])
        log(f"draft contract {draft_id} deleted, language restored")


def told_shots(args, out):
    """What people are told, in English and Spanish: the indexed rent's
    lines (headers whole, usage columns only with a usage line), its Price
    Update tab (the next update previewed), the Pause dialog (what the
    engine then does) and the revenue dashboard (formats, forecast)."""
    base = args.base_url.rstrip("/")
    admin = Odoo(base, args.db, args.login, args.password)
    original_lang = admin.call("res.users", "read", [admin.uid], ["lang"])[0]["lang"]
    rent = admin.call(
        "recurring.contract",
        "search_read",
        [["indexation_method", "=", "index"], ["state", "=", "running"]],
        fields=["id"],
        limit=1,
    )
    if not rent:
        sys.exit(f"no indexed running contract in {args.db}")
    rent_id = rent[0]["id"]
    try:
        for lang, suffix in (("en_US", ""), ("es_ES", "_es")):
            with browser_in(admin, args, lang) as browser:
                browser.navigate(f"{base}/odoo/{ACTION}/{rent_id}")
                browser.wait_for(FORM_READY)
                browser.evaluate(
                    "document.querySelector('.o_field_one2many[name=\"line_ids\"]')"
                    ".scrollIntoView({block: 'center'})"
                )
                time.sleep(1)
                browser.screenshot(out / f"contract_lines{suffix}.png")
                browser.click('.o_notebook a[name="indexation"]')
                browser.wait_for('div[name="indexation_next"]')
                browser.screenshot(out / f"contract_price_update{suffix}.png")
                dialog_shot(
                    browser,
                    f"{base}/odoo/{ACTION}/{rent_id}",
                    "Pause" if lang == "en_US" else "Pausar",
                    out / f"dialog_pause{suffix}.png",
                )
                browser.shoot(
                    f"{base}/odoo/action-recurring_billing."
                    "action_recurring_revenue_dashboard",
                    "canvas.o_rb_chart_forecast",
                    out / f"revenue_dashboard_demo{suffix}.png",
                )
    finally:
        admin.call("res.users", "write", [admin.uid], {"lang": original_lang})
        log(f"admin user {admin.uid}: language restored to {original_lang}")


def portal_home_shot(out, portal, base):
    """The portal's home: the contracts tile beside Odoo's own tiles."""
    with browser_as(portal) as browser:
        browser.navigate(f"{base}/my/home")
        # The tiles show once the portal has counted the documents.
        browser.wait_for('.o_portal_index_card:not(.d-none) a[href="/my/contracts"]')
        browser.screenshot(out / "portal_home.png")


def ensure_portal_user(admin, partner_id):
    Users = "res.users"
    found = admin.call(
        Users,
        "search_read",
        [["login", "=", PORTAL_LOGIN]],
        fields=["id", "partner_id", "active"],
        context={"active_test": False},
    )
    if found:
        log(f"portal user {PORTAL_LOGIN} exists (id {found[0]['id']})")
        return found[0]["id"]
    group = admin.call(
        "ir.model.data",
        "search_read",
        [["module", "=", "base"], ["name", "=", "group_portal"]],
        fields=["res_id"],
    )
    if not group:
        raise OdooError("base.group_portal not found")
    user_id = admin.call(
        Users,
        "create",
        {
            "name": CUSTOMER,
            "login": PORTAL_LOGIN,
            "password": PORTAL_PASSWORD,
            "partner_id": partner_id,
            "groups_id": [(6, 0, [group[0]["res_id"]])],
        },
        # No signup/reset-password email to the customer.
        context={"no_reset_password": True},
    )
    log(f"created portal user {PORTAL_LOGIN} (id {user_id})")
    return user_id


def portal_shots(args, out, admin, contract_id, partner_id):
    base = args.base_url.rstrip("/")
    ensure_portal_user(admin, partner_id)
    portal = Odoo(base, args.db, PORTAL_LOGIN, PORTAL_PASSWORD)
    portal_home_shot(out, portal, base)
    with browser_as(portal) as browser:
        browser.shoot(
            f"{base}/my/contracts", "a.o_contract_link", out / "portal_contracts.png"
        )

        browser.shoot(
            f"{base}/my/contracts/{contract_id}",
            "#contract_content #billing_schedule",
            out / "portal_contract.png",
            full_page=True,
        )

    # The PDF, downloaded as the portal user, first page rendered by poppler.
    resp = portal.get(f"/my/contracts/{contract_id}?report_type=pdf&download=true")
    if not resp.content.startswith(b"%PDF"):
        raise OdooError(
            f"the contract download is not a PDF ({resp.headers.get('Content-Type')})"
        )
    with tempfile.TemporaryDirectory(prefix="rb-pdf-") as tmp:
        pdf = Path(tmp) / "contract.pdf"
        pdf.write_bytes(resp.content)
        prefix = Path(tmp) / "page"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(prefix),
            ],
            check=True,
            timeout=120,
        )
        target = out / "contract_pdf_page1.png"
        shutil.copyfile(prefix.with_suffix(".png"), target)
        log(f"wrote {target}")


REVENUE_ACTION = "action-recurring_billing.action_recurring_revenue_dashboard"
MOVEMENTS_ACTION = "action-recurring_billing.action_recurring_mrr_movement"
FORECAST_ACTION = "action-recurring_billing.action_recurring_forecast_line"


def revenue_shots(args, out):
    """The revenue dashboard and its reports, in English."""
    base = args.base_url.rstrip("/")
    session = Odoo(base, args.db, args.login, args.password)
    with browser_as(session) as browser:
        # A window tall enough for the whole dashboard from the start: a
        # full-page capture resizes the page, and Chart.js's canvases come
        # out blank from that resize.
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": WINDOW[0],
                "height": 1000,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )
        browser.shoot(
            f"{base}/odoo/{REVENUE_ACTION}",
            "canvas.o_rb_chart_forecast",
            out / "revenue_dashboard.png",
            settle=3,
        )
        browser.send("Emulation.clearDeviceMetricsOverride")

        browser.shoot(
            f"{base}/odoo/{MOVEMENTS_ACTION}",
            ".o_graph_view canvas",
            out / "mrr_movements_graph.png",
            settle=3,
        )

        browser.click(".o_switch_view.o_pivot")
        browser.wait_for(".o_pivot_view table", settle=2)
        browser.screenshot(out / "mrr_movements_pivot.png")

        browser.shoot(
            f"{base}/odoo/{FORECAST_ACTION}",
            ".o_pivot_view table",
            out / "revenue_forecast_pivot.png",
            settle=2,
        )


def payment_shots(args, out, admin, contract_id, partner_id):
    """Getting paid, as the customer: the payment part of the
    contract page (saved method, Pay buttons), the payment method page and
    the cancellation request page. Nothing is submitted."""
    base = args.base_url.rstrip("/")
    ensure_portal_user(admin, partner_id)
    portal = Odoo(base, args.db, PORTAL_LOGIN, PORTAL_PASSWORD)
    with browser_as(portal) as browser:
        browser.shoot(
            f"{base}/my/contracts/{contract_id}",
            "#contract_payment",
            out / "portal_contract_payment.png",
            full_page=True,
        )
        browser.shoot(
            f"{base}/my/contracts/{contract_id}/payment_method",
            ".o_portal_contract_payment_method",
            out / "portal_payment_method.png",
        )
        browser.shoot(
            f"{base}/my/contracts/{contract_id}/cancel",
            "#cancel_effective_date",
            out / "portal_cancel.png",
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://localhost:8069")
    parser.add_argument("--db", default="rb_demo")
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument(
        "--wait",
        type=int,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for the server to answer /web/login",
    )
    parser.add_argument(
        "--only",
        default="backoffice,workspace,portal,apps,payments,told",
        help="comma-separated: backoffice, workspace, portal, apps, payments, "
        "told, revenue (default: all but revenue)",
    )
    args = parser.parse_args()
    shots = set(args.only.split(","))
    known = {
        "backoffice",
        "workspace",
        "portal",
        "apps",
        "payments",
        "revenue",
        "told",
    }
    if shots - known:
        sys.exit(f"--only: unknown shots {shots - known}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = args.base_url.rstrip("/")

    deadline = time.monotonic() + args.wait
    while True:
        try:
            if requests.get(base + "/web/login", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() >= deadline:
            sys.exit(f"{base}/web/login does not answer 200: is the demo server up?")
        time.sleep(5)

    if shots == {"revenue"}:
        revenue_shots(args, out)
        return

    admin = Odoo(base, args.db, args.login, args.password)
    contracts = admin.call(
        "recurring.contract",
        "search_read",
        [["partner_id.name", "=", CUSTOMER]],
        fields=["id", "name", "partner_id"],
        order="id",
        limit=1,
    )
    if not contracts:
        sys.exit(f"no contract for {CUSTOMER} in {args.db}")
    contract_id = contracts[0]["id"]
    partner_id = contracts[0]["partner_id"][0]
    log(f"contract {contracts[0]['name']} (id {contract_id}), partner id {partner_id}")

    if shots & {"backoffice", "apps"}:
        backoffice_shots(args, out, contract_id, shots)
    if "workspace" in shots:
        workspace_shots(args, out, contract_id)
    if "portal" in shots:
        portal_shots(args, out, admin, contract_id, partner_id)
    if "payments" in shots:
        payment_shots(args, out, admin, contract_id, partner_id)
    if "told" in shots:
        told_shots(args, out)
    if "revenue" in shots:
        revenue_shots(args, out)


if __name__ == "__main__":
    os.environ.setdefault("NO_PROXY", "localhost,127.0.0.1")
    main()
