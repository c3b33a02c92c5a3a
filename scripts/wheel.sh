#!/usr/bin/env bash
# `make wheel`: build odoo-addon-recurring_billing for each Odoo series into
# dist/ (odoo_addon_recurring_billing-18.0.<version>-... and 19.0.<version>).
# The manifest's version has no series (one source for both); each wheel is
# built from a copy of the files git tracks (whool itself packs only those)
# whose manifest carries the version Odoo reads on that series (1.2.0 ->
# 19.0.1.2.0), so that the wheel is named and requires Odoo as OCA's are.
# Arguments: the series to build (default both), e.g. scripts/wheel.sh 19.0
source "$(dirname "$0")/lib.sh"
ensure_venv
cd "$ROOT"
mkdir -p dist
for series in "${@:-18.0 19.0}"; do
    for s in $series; do
        tmp=$(mktemp -d)
        git ls-files -z recurring_billing | xargs -0 cp --parents -t "$tmp"
        sed -i -E "s/^(    \"version\": \")([0-9]+\.[0-9]+\.[0-9]+\")/\1$s.\2/" "$tmp/recurring_billing/__manifest__.py"
        grep -q "\"version\": \"$s\." "$tmp/recurring_billing/__manifest__.py" ||
            { rm -rf "$tmp"; die "no series-less version in recurring_billing/__manifest__.py"; }
        "$PY" -m pip wheel -q --no-deps -w dist/ "$tmp/recurring_billing" ||
            { rm -rf "$tmp"; die "the $s wheel could not be built"; }
        rm -rf "$tmp"
    done
done
ls dist/odoo_addon_recurring_billing-*.whl
