"""Read the logs of Odoo's own test runner and compare two runs.

Used by scripts/host_tests.sh (``make host-tests``): Odoo's own tests of the
modules the addon extends, run once with recurring_billing installed and once
without it (or, in CI, only with it, against a committed list of the tests
known to fail without it).

    host_tests.py --with WITH.log [--without WITHOUT.log] --known LIST
                  --modules sale,sale_management

A failing test is one named by a ``FAIL:`` or ``ERROR:`` line of Odoo's runner
(``... ERROR db odoo.addons.sale.tests.test_x: FAIL: TestX.test_y``), as
``sale TestX.test_y``; subtests count as their test, an error in
``setUpClass`` as ``TestX.setUpClass``. The number of tests comes from the
runner's last line (``N failed, M error(s) of K tests when loading database``);
without it the run did not finish and that alone fails.

Exit status: 0 when no test fails only with the addon (or, without the second
log, when every failing test is in the list), 1 otherwise, also when a run
did not finish, ran no test, or skipped a browser test (no Chromium or no
websocket-client: the tours would not have run). A listed test that passes is
reported, not counted as a failure: the list may be out of date (a test that
only fails in some years, a fix in Odoo).
"""

import argparse
import re
import sys
from pathlib import Path

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) \S+ "
    r"(?P<logger>[\w.]+): (?P<msg>.*)$"
)
RESULT = re.compile(r"^(?P<kind>FAIL|ERROR): (?P<desc>.+)$")
SUMMARY = re.compile(
    r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<run>\d+) tests "
    r"when loading database"
)
STARTED = re.compile(r"^Starting (?P<desc>\S+) \.\.\.")
SKIPPED = re.compile(r"^skipped (?P<desc>\S+) : (?P<reason>.*)$")
# e.g. "setUpClass (odoo.addons.sale.tests.test_x.TestX)"
FIXTURE = re.compile(
    r"^(?P<fixture>\w+) \(odoo\.addons\.(?P<module>\w+)\.[\w.]*?\.(?P<cls>\w+)\)$"
)
SUBTEST = re.compile(r"^Subtest (?P<test>\S+)")
EXCEPTION = re.compile(r"^(?:[a-z_]\w*\.)*[A-Z]\w*: ")  # psycopg2.errors.X: ...
BROWSER_SKIP = re.compile(r"chrom|browser|websocket|devtools", re.IGNORECASE)


def module_of(logger):
    match = re.match(r"odoo\.addons\.(\w+)\.", logger)
    return match.group(1) if match else logger


def test_name(logger, desc):
    """'module Class.method' for a FAIL/ERROR/skipped description."""
    desc = desc.strip()
    fixture = FIXTURE.match(desc)
    if fixture:
        return f"{fixture['module']} {fixture['cls']}.{fixture['fixture']}"
    sub = SUBTEST.match(desc)
    if sub:
        desc = sub["test"]
    return f"{module_of(logger)} {desc.split()[0]}"


class Run:
    """The outcome of one run of Odoo's test runner, read from its log."""

    def __init__(self, path):
        self.path = Path(path)
        self.failing = {}  # name: why (a line of the traceback)
        self.started = set()
        self.skipped = {}
        self.summary = None
        self.browser_runs = 0
        current = None  # the failing test whose traceback follows
        with self.path.open(encoding="utf-8", errors="replace") as log:
            for raw in log:
                line = LINE.match(raw.rstrip("\n"))
                if not line:
                    if current:
                        self._note_why(current, raw.strip())
                    continue
                current = None
                msg = line["msg"]
                result = RESULT.match(msg)
                if result and line["level"] == "ERROR":
                    current = test_name(line["logger"], result["desc"])
                    self.failing.setdefault(current, "")
                    continue
                started = STARTED.match(msg)
                if started:
                    self.started.add(test_name(line["logger"], started["desc"]))
                    continue
                skipped = SKIPPED.match(msg)
                if skipped:
                    name = test_name(line["logger"], skipped["desc"])
                    self.skipped[name] = skipped["reason"]
                    continue
                if msg.startswith("Evaluate test code"):
                    self.browser_runs += 1
                    continue
                summary = SUMMARY.search(msg)
                if summary and line["logger"] == "odoo.tests.result":
                    self.summary = {k: int(v) for k, v in summary.groupdict().items()}

    def _note_why(self, name, text):
        """Keep the most telling line of a traceback: a tour's failed step,
        else the exception."""
        why = self.failing[name]
        if text.startswith("FAILED:") and not why.startswith("FAILED:"):
            self.failing[name] = text
        elif not why and EXCEPTION.match(text):
            self.failing[name] = text
        self.failing[name] = self.failing[name][:160]

    def modules_run(self):
        counts = {}
        for name in self.started:
            module = name.split()[0]
            counts[module] = counts.get(module, 0) + 1
        return ", ".join(f"{m} {n}" for m, n in sorted(counts.items()))

    @property
    def tests_run(self):
        return self.summary["run"] if self.summary else 0

    def problems(self):
        """Reasons why this run cannot be trusted, if any."""
        found = []
        if self.summary is None:
            found.append(
                f"{self.path}: no final 'N failed, M error(s) of K tests' line: "
                "the run did not finish (install failed or Odoo crashed?)"
            )
        elif not self.tests_run:
            found.append(f"{self.path}: no test ran")
        browser = sorted(n for n, r in self.skipped.items() if BROWSER_SKIP.search(r))
        if browser:
            found.append(
                f"{self.path}: {len(browser)} browser test(s) skipped: "
                + ", ".join(f"{n} ({self.skipped[n]})" for n in browser)
            )
        return found


def read_known(path):
    """{'module Class.method': reason} from the committed list."""
    known = {}
    for number, raw in enumerate(
        Path(path).read_text(encoding="utf-8").splitlines(), 1
    ):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test, sep, reason = line.partition("#")
        fields = test.split()
        if len(fields) != 2 or not sep or not reason.strip():
            raise SystemExit(
                f"{path}:{number}: expected 'module TestClass.test_method  # reason', "
                f"got {raw!r}"
            )
        known[" ".join(fields)] = reason.strip()
    return known


def listing(title, names, notes=None):
    print(f"{title} ({len(names)}):")
    for name in sorted(names):
        note = (notes or {}).get(name)
        print(f"    {name}" + (f"  # {note}" if note else ""))
    if not names:
        print("    (none)")


def test_tag(name):
    """Odoo --test-tags spec selecting one failing test (or its class)."""
    module, test = name.split()
    cls, _, method = test.rpartition(".")
    if not cls or method in ("setUpClass", "tearDownClass"):
        return f"/{module}:{cls or test}"
    return f"/{module}:{cls}.{method}"


def passed_in(run, name):
    """Whether the test (or, for a class fixture, its class) ran and passed."""
    module, test = name.split()
    cls, _, method = test.rpartition(".")
    if method in ("setUpClass", "tearDownClass"):
        prefix = f"{module} {cls}."
        ran = any(n.startswith(prefix) for n in run.started)
        return ran and not any(n.startswith(prefix) for n in run.failing)
    return name in run.started and name not in run.failing


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--with", dest="with_log", required=True, help="log of the run with the addon"
    )
    parser.add_argument(
        "--without", dest="without_log", help="log of the run without the addon"
    )
    parser.add_argument(
        "--rerun", dest="rerun_log", help="log of the suspects rerun with the addon"
    )
    parser.add_argument(
        "--known", required=True, help="tests known to fail without the addon"
    )
    parser.add_argument(
        "--modules", required=True, help="comma-separated modules whose tests ran"
    )
    parser.add_argument(
        "--suspects",
        action="store_true",
        help="only print the --test-tags of the suspects (nothing if none)",
    )
    return parser.parse_args(argv)


def print_table(modules, runs):
    print(
        f"Odoo's own tests of {', '.join(modules)} (Odoo's test runner, no demo data)"
    )
    width = max(len(label) for label, _ in runs)
    print(f"    {'':<22}" + "".join(f"{label:>{width + 2}}" for label, _ in runs))
    rows = [
        ("tests run", lambda r: r.tests_run),
        ("failing tests", lambda r: len(r.failing)),
        (
            "  (failed, errors)",
            lambda r: "{failed}, {errors}".format(**r.summary) if r.summary else "-",
        ),
        ("skipped", lambda r: len(r.skipped)),
        ("browser runs (tours)", lambda r: r.browser_runs),
    ]
    for title, value in rows:
        print(
            f"    {title:<22}" + "".join(f"{value(r)!s:>{width + 2}}" for _, r in runs)
        )
    for label, run in runs:
        print(f"tests started {label}: {run.modules_run() or '-'}")


def print_comparison(with_run, without_run, suspects, known, known_path):
    listing("failing with the addon", with_run.failing, known)
    if without_run:
        listing("failing without the addon", without_run.failing, known)
        listing("failing ONLY with the addon", suspects, with_run.failing)
        fixed = set(without_run.failing) - set(with_run.failing)
        if fixed:
            listing("note: failing only WITHOUT the addon", fixed, without_run.failing)
        if with_run.tests_run != without_run.tests_run:
            print(
                f"note: {with_run.tests_run} tests ran with the addon, "
                f"{without_run.tests_run} without"
            )
        unlisted = set(without_run.failing) - set(known)
        if unlisted:
            listing(
                f"note: failing without the addon and not in {known_path}",
                unlisted,
                without_run.failing,
            )
    else:
        listing(f"failing and not in {known_path}", suspects, with_run.failing)
    passing = (set(known) & with_run.started) - set(with_run.failing)
    if passing:
        listing(f"note: in {known_path} but passing with the addon", passing, known)


def judge_rerun(suspects, rerun_log):
    """The suspects that fail again when rerun alone with the addon.

    A test that fails once, then passes when run again alone with the addon,
    is timing-dependent (e.g. a tour step's 10 s timeout on a loaded machine):
    reported, not counted. Failing twice is a failure."""
    rerun = Run(rerun_log)
    print(f"rerun of the {len(suspects)} test(s) alone, with the addon ({rerun_log}):")
    culprits = set()
    for name in sorted(suspects):
        if passed_in(rerun, name):
            print(f"    {name}: passed: flaky, not counted")
        else:
            culprits.add(name)
            ran = name in rerun.started or name in rerun.failing
            print(f"    {name}: " + ("FAILED again" if ran else "did not pass"))
    return culprits


def main(argv=None):
    args = parse_args(argv)
    modules = [m for m in args.modules.split(",") if m]
    known = read_known(args.known)
    with_run = Run(args.with_log)
    without_run = Run(args.without_log) if args.without_log else None
    if without_run:
        suspects = set(with_run.failing) - set(without_run.failing)
        verdict = "fail only with the addon"
    else:
        suspects = set(with_run.failing) - set(known)
        verdict = "fail and are not known to fail without the addon"
    if args.suspects:
        if suspects:
            print(",".join(sorted({test_tag(n) for n in suspects})))
        return 0

    runs = [("with the addon", with_run)]
    if without_run:
        runs.append(("without the addon", without_run))
    print_table(modules, runs)
    print_comparison(with_run, without_run, suspects, known, args.known)
    culprits = suspects
    if suspects and args.rerun_log:
        culprits = judge_rerun(suspects, args.rerun_log)
    problems = [p for _, run in runs for p in run.problems()]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if culprits or problems:
        print(
            "RESULT: FAILED"
            + (f": {len(culprits)} test(s) {verdict}" if culprits else "")
        )
        return 1
    print("RESULT: OK, no test fails because of the addon")
    return 0


if __name__ == "__main__":
    sys.exit(main())
