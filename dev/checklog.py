#!/usr/bin/env python3
"""Fail on any ERROR/CRITICAL/WARNING line of an Odoo log, the way OCA's
checklog-odoo does. Known noise from Odoo core or the Debian system packages
is listed in IGNORED, each with the reason it is harmless."""

import re
import sys

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) "
)
IGNORED = [
    # Debian's wkhtmltopdf is built on an unpatched Qt: Odoo logs that it
    # ignores the header/footer switches, and, during a server-less install,
    # that the assets URL refused the connection. The PDF is still produced.
    r"odoo\.addons\.base\.models\.ir_actions_report: wkhtmltopdf: ",
    # pytest-odoo imports odoo.tests when pytest loads the plugin, before it
    # hands Odoo the config that sets test_enable: Odoo then logs this once.
    r"ERROR \? odoo\.tests\.common: Importing test framework",
    # Chromium's own shutdown message when a tour ends (OCA/web ignores it too).
    r"Killing chrome descendants-or-self",
    # Odoo 18 warns once per process that the test http server's
    # "--http-interface" is unset while tours run on localhost.
    r"odoo\.tests\.common: .*Screencasts",
]


def main(paths):
    bad = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            for number, line in enumerate(log, 1):
                if LOG_LINE.match(line) and not any(
                    re.search(pattern, line) for pattern in IGNORED
                ):
                    bad.append(f"{path}:{number}: {line.rstrip()}")
    if bad:
        sys.stderr.write(
            "checklog: the log holds %d ERROR/WARNING line(s):\n" % len(bad)
        )
        sys.stderr.write("\n".join(bad[:50]) + "\n")
        return 1
    sys.stdout.write("checklog: no ERROR or WARNING line in %s\n" % ", ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
