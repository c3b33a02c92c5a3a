#!/usr/bin/env python3
"""Generate ``recurring_billing/README.rst`` from the readme fragments
(``recurring_billing/readme/*.md``) and the manifest, in the layout of OCA's
``oca-gen-addon-readme`` (maintainer-tools): title, "generated" warning with
a digest of the sources, badges, the description, the development status
note, a table of contents, the fragments as sections (Configuration, Usage,
Changelog, ...), then Bug Tracker and Credits (Authors, Contributors,
Maintainers).

Why our own: OCA's tool is not published on PyPI and its pre-commit hook
comes from a GitHub repository, while every hook of this project runs from
the project's virtualenv. The Markdown of the fragments is kept to what
reStructuredText reads the same way (paragraphs, ``-`` and ``1.`` lists,
``*emphasis*``, ``**strong**``) plus what is converted here: headings,
```code``` spans, links and fenced code blocks. The result is parsed with
docutils, and any docutils warning fails the run.

    scripts/gen_readme.py            regenerate; exit 1 if README.rst changed
    scripts/gen_readme.py --check    exit 1 if README.rst is stale, write nothing

The pre-commit hook ``gen-addon-readme`` runs the first form: a commit with a
stale README.rst fails, and the regenerated file is left to add.
"""

import argparse
import ast
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDON = ROOT / "recurring_billing"
# OCA's fragments, in the order of its template, with their section titles.
FRAGMENTS = [
    ("DESCRIPTION", None),
    ("CONTEXT", "Use Cases / Context"),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("DEVELOP", "Development"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
    ("CONTRIBUTORS", "Contributors"),
    ("CREDITS", "Other credits"),
]
# Underlines: the document title (over and under), sections, subsections.
SECTION, SUBSECTION = "=", "~"
STATUS_COLORS = {
    "alpha": "red",
    "beta": "yellow",
    "production/stable": "green",
    "mature": "brightgreen",
}
LICENSE_URLS = {
    "LGPL-3": "http://www.gnu.org/licenses/lgpl-3.0-standalone.html",
    "AGPL-3": "http://www.gnu.org/licenses/agpl-3.0-standalone.html",
}


# ------------------------------------------------------------ Markdown
def md_inline(text):
    text = re.sub(r"`([^`]+)`", r"``\1``", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`__", text)
    return re.sub(r"<(https?://[^>]+)>", r"\1", text)


def md_to_rst(md, heading=SUBSECTION):
    """The fragment's Markdown as reStructuredText (see the module doc)."""
    out, lines, i = [], md.strip("\n").split("\n"), 0
    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^(\s*)```(\w*)\s*$", line)
        if fence:
            indent, lang = fence.groups()
            out += [f"{indent}.. code-block:: {lang or 'text'}", ""]
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                out.append(f"{indent}   {lines[i][len(indent) :]}".rstrip())
                i += 1
            i += 1  # the closing fence
            continue
        title = re.match(r"^#{1,6}\s+(.*)$", line)
        if title:
            text = md_inline(title.group(1).strip())
            out += [text, heading * len(text)]
        else:
            out.append(md_inline(line).rstrip())
        i += 1
    return "\n".join(out)


# ------------------------------------------------------------ README.rst
def read_sources():
    manifest_path = ADDON / "__manifest__.py"
    manifest = ast.literal_eval(manifest_path.read_text(encoding="utf-8"))
    fragments = {}
    for name, _title in FRAGMENTS:
        path = ADDON / "readme" / f"{name}.md"
        if path.exists():
            fragments[name] = path.read_text(encoding="utf-8")
    return manifest, fragments


def digest(manifest, fragments):
    """What the README is made of, hashed: a changed fragment or manifest
    key changes the digest written into the README."""
    h = hashlib.sha256()
    keys = ("name", "summary", "version", "license", "author", "website")
    keys += ("development_status", "maintainers")
    for key in keys:
        h.update(f"{key}={manifest.get(key)!r}\n".encode())
    for name in sorted(fragments):
        h.update(f"{name}\n{fragments[name]}\n".encode())
    return h.hexdigest()[:32]


def render(manifest, fragments):
    addon = ADDON.name
    website = manifest["website"].rstrip("/")
    match = re.match(r"https://github\.com/([^/]+)/([^/]+)$", website)
    if not match:
        raise SystemExit(
            f"the manifest's website is not a GitHub repository: {website}"
        )
    org, repo = match.groups()
    # One branch serves both Odoo series (the manifest's version has none).
    branch = "main"
    status = manifest.get("development_status", "Beta")
    license_ = manifest["license"]
    badges = [
        (
            f"https://img.shields.io/badge/maturity-{status.replace('-', '--')}"
            f"-{STATUS_COLORS.get(status.lower(), 'lightgray')}.png",
            "https://odoo-community.org/page/development-status",
            status,
        ),
        (
            "https://img.shields.io/badge/licence-"
            f"{license_.replace('-', '--')}-blue.png",
            LICENSE_URLS.get(license_, website),
            f"License: {license_}",
        ),
        (
            "https://img.shields.io/badge/github-"
            + f"{org}/{repo}".replace("-", "--").replace("_", "__").replace("/", "%2F")
            + "-lightgray.png?logo=github",
            f"{website}/tree/{branch}/{addon}",
            f"{org}/{repo}",
        ),
    ]
    name = manifest["name"]
    out = [
        "=" * len(name),
        name,
        "=" * len(name),
        "",
        "..",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "   !! This file is generated by scripts/gen_readme.py      !!",
        "   !! from readme/*.md: changes will be overwritten.       !!",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        f"   !! source digest: {digest(manifest, fragments)}",
        "   !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "",
    ]
    for n, (image, target, alt) in enumerate(badges, 1):
        out += [f".. |badge{n}| image:: {image}", f"    :target: {target}"]
        out += [f"    :alt: {alt}"]
    out += ["", " ".join(f"|badge{n}|" for n in range(1, len(badges) + 1)), ""]
    out += [md_to_rst(fragments.get("DESCRIPTION", manifest.get("summary", ""))), ""]
    if status.lower() == "alpha":
        out += [
            ".. IMPORTANT::",
            "   This is an alpha version, the data model and design can change"
            " at any time without warning.",
            "   Only for development or testing purpose, do not use in production.",
            "   `More details on development status"
            " <https://odoo-community.org/page/development-status>`_",
            "",
        ]
    out += ["**Table of contents**", "", ".. contents::", "   :local:", ""]

    def section(title, underline, body):
        return [title, underline * len(title), "", body, ""]

    for frag, title in FRAGMENTS:
        if title and frag in fragments and frag not in ("CONTRIBUTORS", "CREDITS"):
            out += section(title, SECTION, md_to_rst(fragments[frag]))
    out += section(
        "Bug Tracker",
        SECTION,
        f"Bugs are tracked on `GitHub Issues <{website}/issues>`_.\n"
        "In case of trouble, please check there if your issue has already been "
        "reported.\nIf you spotted it first, help us to smash it by providing a "
        "detailed and welcomed\n"
        f"`feedback <{website}/issues/new?body=module:%20{addon}%0Aversion:%20"
        f"{branch}%0A%0A**Steps%20to%20reproduce**%0A-%20...%0A%0A**Current"
        "%20behavior**%0A%0A**Expected%20behavior**>`_.\n\n"
        "Do not contact contributors directly about support or help with "
        "technical issues.",
    )
    out += ["Credits", SECTION * 7, ""]
    authors = [a.strip() for a in manifest.get("author", "").split(",") if a.strip()]
    if authors:
        out += section("Authors", SUBSECTION, "\n".join(f"* {a}" for a in authors))
    for frag, title in FRAGMENTS:
        if frag in ("CONTRIBUTORS", "CREDITS") and frag in fragments:
            out += section(title, SUBSECTION, md_to_rst(fragments[frag]))
    maintainers = manifest.get("maintainers") or []
    body = (
        "\n".join(
            f".. |maintainer-{m}| image:: https://github.com/{m}.png?size=40px\n"
            f"    :target: https://github.com/{m}\n    :alt: {m}"
            for m in maintainers
        )
        + "\n\nCurrent maintainer"
        + ("s" if len(maintainers) > 1 else "")
        + ":\n\n"
        + " ".join(f"|maintainer-{m}|" for m in maintainers)
        + "\n\n"
        if maintainers
        else ""
    )
    body += (
        f"This module is part of the `{org}/{repo} <{website}/tree/{branch}/"
        f"{addon}>`_ project on GitHub.\n\nYou are welcome to contribute."
    )
    out += section("Maintainers", SUBSECTION, body)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def check_rst(text):
    """docutils must read the README without a warning (PyPI and Odoo's
    module form both render it)."""
    from docutils.core import publish_doctree
    from docutils.utils import SystemMessage

    try:
        publish_doctree(
            text,
            settings_overrides={
                "halt_level": 2,
                "report_level": 2,
                "warning_stream": False,
            },
        )
    except SystemMessage as exc:
        raise SystemExit(f"README.rst is not valid reStructuredText: {exc}") from exc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing")
    args = parser.parse_args()
    text = render(*read_sources())
    check_rst(text)
    target = ADDON / "README.rst"
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if current == text:
        return 0
    if args.check:
        print(f"{target.relative_to(ROOT)} is stale: run scripts/gen_readme.py")
        return 1
    target.write_text(text, encoding="utf-8")
    print(f"{target.relative_to(ROOT)} was stale: regenerated it, add it to the commit")
    return 1


if __name__ == "__main__":
    sys.exit(main())
