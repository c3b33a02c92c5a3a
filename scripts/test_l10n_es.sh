#!/usr/bin/env bash
# The Spanish bridge's tests (recurring_billing_l10n_es) on a database of their
# own, rb_<name>_es: Odoo's Spanish localisation and its SII module installed
# without demo data, the bridge's tests run by pytest-odoo, the log checked.
# No call leaves the machine: the SII web service is mocked the way Odoo's own
# l10n_es_edi_sii tests mock it. Called by scripts/test.sh (RB_SKIP_L10N_ES=1
# skips it on a developer's machine, never in CI); extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

bridge_tests es "Spanish bridge" \
    recurring_billing,recurring_billing_l10n_es,l10n_es_edi_sii \
    recurring_billing_l10n_es/tests "" "$@"
