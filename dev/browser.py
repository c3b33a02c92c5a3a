"""The two hands of dev/screenshots.py: Odoo over JSON-RPC (``requests``),
and a headless Chromium with a fresh profile driven over the Chrome DevTools
Protocol (``websocket-client``), logged in with the same session."""

import base64
import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

CHROMIUM = "/usr/bin/chromium"
WINDOW = (1400, 900)
HTTP_TIMEOUT = 60  # seconds, any single HTTP request to Odoo
PAGE_TIMEOUT = 90  # seconds, a page to settle
SETTLE = 1.5  # seconds, extra wait once the page looks ready


def log(msg):
    print(f"[screenshots] {msg}", flush=True)


# ---------------------------------------------------------------------------
# Odoo JSON-RPC
# ---------------------------------------------------------------------------


class OdooError(RuntimeError):
    pass


class Odoo:
    """A JSON-RPC session (the same session cookie the browser will use)."""

    def __init__(self, base_url, db, login, password):
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        result = self._rpc(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
        )
        if not result or not result.get("uid"):
            raise OdooError(f"login failed for {login}")
        self.uid = result["uid"]
        self.session_id = self.http.cookies.get("session_id")
        if not self.session_id:
            raise OdooError(f"no session cookie for {login}")

    def _rpc(self, path, params):
        resp = self.http.post(
            self.base_url + path,
            json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
            timeout=HTTP_TIMEOUT,
        )
        resp.raise_for_status()
        data = resp.json()
        if "error" in data:
            err = data["error"]
            raise OdooError(err.get("data", {}).get("message") or err.get("message"))
        return data.get("result")

    def call(self, model, method, *args, **kwargs):
        return self._rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def get(self, path, **kw):
        resp = self.http.get(self.base_url + path, timeout=HTTP_TIMEOUT, **kw)
        resp.raise_for_status()
        return resp


# ---------------------------------------------------------------------------
# Chromium over the DevTools Protocol
# ---------------------------------------------------------------------------


def free_port():
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CDPError(RuntimeError):
    pass


class Chromium:
    """A headless Chromium with a fresh profile, driven through one page."""

    def __init__(self, binary=CHROMIUM, window=WINDOW, start_timeout=30):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="rb-chromium-")
        self.window = window
        self._id = 0
        self.ws = None
        self.proc = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={window[0]},{window[1]}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._connect(start_timeout)
        except BaseException:
            self.close()
            raise

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        url = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CDPError(f"chromium exited with code {self.proc.returncode}")
            try:
                targets = requests.get(
                    f"http://127.0.0.1:{self.port}/json/list", timeout=2
                ).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    url = pages[0]["webSocketDebuggerUrl"]
                    break
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.25)
        if not url:
            raise CDPError(f"chromium did not expose a page within {timeout}s")
        # suppress_origin: Chromium refuses DevTools websockets with an Origin
        # header unless started with --remote-allow-origins.
        self.ws = websocket.create_connection(url, timeout=10, suppress_origin=True)
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Network.enable")

    def send(self, method, params=None, timeout=30):
        self._id += 1
        msg_id = self._id
        self.ws.send(
            json.dumps({"id": msg_id, "method": method, "params": params or {}})
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError(f"{method}: no answer within {timeout}s")
            self.ws.settimeout(remaining)
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException as exc:
                raise CDPError(f"{method}: no answer within {timeout}s") from exc
            if msg.get("id") != msg_id:
                continue  # an event, or a late answer: not needed here
            if "error" in msg:
                raise CDPError(f"{method}: {msg['error']}")
            return msg.get("result", {})

    def evaluate(self, expression, await_promise=False, timeout=30):
        result = self.send(
            "Runtime.evaluate",
            {
                "expression": expression,
                "returnByValue": True,
                "awaitPromise": await_promise,
            },
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get(
                "text"
            )
            raise CDPError(f"evaluate failed: {text}")
        return result.get("result", {}).get("value")

    def set_session_cookie(self, base_url, session_id):
        ok = self.send(
            "Network.setCookie",
            {
                "name": "session_id",
                "value": session_id,
                "url": base_url,
                "path": "/",
                "httpOnly": True,
            },
        )
        if not ok.get("success", True):
            raise CDPError("Network.setCookie failed")

    def navigate(self, url):
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CDPError(f"navigate {url}: {result['errorText']}")

    def wait_for(self, selector, timeout=PAGE_TIMEOUT, settle=SETTLE):
        """Wait for a complete document showing `selector` and no Odoo spinner."""
        check = (
            "(() => document.readyState === 'complete'"
            f" && !!document.querySelector({json.dumps(selector)})"
            " && !document.querySelector('.o_loading_indicator, .o_blockUI'))()"
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(check, timeout=10):
                    time.sleep(settle)
                    return
            except CDPError:
                pass  # navigation in progress: the context went away
            time.sleep(0.25)
        where = self.evaluate("location.href + ' | ' + document.title")
        raise CDPError(f"timeout ({timeout}s) waiting for {selector!r} on {where}")

    def click(self, selector, text=None):
        """Click the first element matching `selector` (and containing `text`)."""
        js = f"""(() => {{
            const els = [...document.querySelectorAll({json.dumps(selector)})];
            const text = {json.dumps(text)};
            const el = els.find(e => !text || e.textContent.includes(text));
            if (!el) return false;
            el.scrollIntoView({{block: 'center'}});
            el.click();
            return true;
        }})()"""
        if not self.evaluate(js):
            raise CDPError(f"nothing to click for {selector!r} / {text!r}")

    def shoot(self, url, ready, path, settle=SETTLE, **screenshot_kw):
        """Open `url`, wait for `ready` (a selector), save the PNG `path`."""
        self.navigate(url)
        self.wait_for(ready, settle=settle)
        self.screenshot(path, **screenshot_kw)

    def screenshot(self, path, full_page=False, until=None, max_height=8000):
        """Save a PNG of the viewport, of the whole page (`full_page`), or of
        the page from its top down to the bottom of the `until` element."""
        if full_page or until:
            # Odoo scrolls inside containers (the web client's .o_content,
            # the frontend's #wrapwrap) rather than the document: measure
            # them from the top, then grow the viewport to the content.
            height = self.evaluate(
                """(() => {
                    const boxes = [...document.querySelectorAll('.o_content, #wrapwrap, main')];
                    window.scrollTo(0, 0);
                    boxes.forEach(e => { e.scrollTop = 0; });
                    const until = %s;
                    if (until) {
                        const el = document.querySelector(until);
                        return el ? Math.ceil(el.getBoundingClientRect().bottom + 24) : 0;
                    }
                    return Math.max(document.documentElement.scrollHeight,
                                    document.body ? document.body.scrollHeight : 0,
                                    ...boxes.map(e => Math.ceil(e.getBoundingClientRect().top + e.scrollHeight)));
                })()"""
                % json.dumps(until)
            )
            height = min(max(int(height or 0), self.window[1]), max_height)
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": self.window[0],
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
            )
            time.sleep(1.0)
        try:
            data = self.send(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": bool(full_page or until)},
                timeout=60,
            )["data"]
        finally:
            if full_page or until:
                self.send("Emulation.clearDeviceMetricsOverride")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        log(f"wrote {path}")

    def close(self):
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.settimeout(5)
                self.ws.send(json.dumps({"id": 0, "method": "Browser.close"}))
            with contextlib.suppress(Exception):
                self.ws.close()
            self.ws = None
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def browser_as(odoo):
    """A fresh Chromium profile logged in with `odoo`'s session."""
    browser = Chromium()
    try:
        browser.set_session_cookie(odoo.base_url + "/", odoo.session_id)
    except BaseException:
        browser.close()
        raise
    return browser
