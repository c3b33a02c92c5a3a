#!/usr/bin/env bash
# `make wheel`: build odoo-addon-recurring_billing for each Odoo series into
# dist/ (odoo_addon_recurring_billing-18.0.<version>-... and 19.0.<version>).
# The manifest's version has no series (one source for both), so whool is
# told the series (odoo_series_override) in a copy of the files git tracks,
# as whool itself packs only those. Arguments: the series to build (default
# both), e.g. scripts/wheel.sh 19.0
source "$(dirname "$0")/lib.sh"
ensure_venv
cd "$ROOT"
mkdir -p dist
for series in "${@:-18.0 19.0}"; do
    for s in $series; do
        tmp=$(mktemp -d)
        git ls-files -z recurring_billing | xargs -0 cp --parents -t "$tmp"
        printf '\n[tool.whool]\nodoo_series_override = "%s"\n' "$s" >>"$tmp/recurring_billing/pyproject.toml"
        "$PY" -m pip wheel -q --no-deps -w dist/ "$tmp/recurring_billing" ||
            { rm -rf "$tmp"; die "the $s wheel could not be built"; }
        rm -rf "$tmp"
    done
done
ls dist/odoo_addon_recurring_billing-*.whl
