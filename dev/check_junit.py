#!/usr/bin/env python3
"""Read pytest's JUnit XML: fail when no test ran, or when any test was
skipped (a skipped browser tour is a failure here), and print the counts."""

import sys
import xml.etree.ElementTree as ET


def main(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    failures = sum(int(s.get("failures", 0)) for s in suites)
    errors = sum(int(s.get("errors", 0)) for s in suites)
    skipped = [
        f"{case.get('classname')}.{case.get('name')}: {skip.get('message', '')}"
        for case in root.iter("testcase")
        for skip in case.findall("skipped")
    ]
    print(
        f"junit: {total} tests, {failures} failed, {errors} errors, "
        f"{len(skipped)} skipped"
    )
    if total == 0:
        print("junit: no test ran: that is a failure")
        return 1
    if skipped:
        print("junit: skipped tests count as failures here:")
        print("\n".join(f"  - {s}" for s in skipped))
        return 1
    return 1 if failures or errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
