#!/usr/bin/env bash
# The Spanish bridge's tests (recurring_billing_l10n_es) on a database of their
# own, rb_<name>_es: Odoo's Spanish localisation and its SII module, and OCA's
# VERI*FACTU module (l10n_es_verifactu_oca and its OCA dependencies, pinned in
# requirements-l10n-es.txt, installed into .local/l10n_es, never into the
# virtualenv), installed without demo data; the bridge's tests run by
# pytest-odoo, the log checked. No call leaves the machine: the SII web
# service is mocked the way Odoo's own l10n_es_edi_sii tests mock it, and the
# VERI*FACTU records are made at posting and never sent (test mode, no
# certificate). Called by scripts/test.sh (RB_SKIP_L10N_ES=1 skips it on a
# developer's machine, never in CI); extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
setup_all
cd "$ROOT"

if [ "$RB_SERIES" != 18.0 ]; then
    # OCA's l10n_es_verifactu_oca has no 19.0 release on PyPI: on 19.0 the
    # bridge is tested with Odoo's Spanish localisation and SII only.
    bridge_tests es "Spanish bridge" \
        recurring_billing,recurring_billing_l10n_es,l10n_es_edi_sii \
        recurring_billing_l10n_es/tests/test_l10n_es.py "" "$@"
    exit 0
fi

ensure_l10n_es_oca
# The VERI*FACTU tests fail (never skip) when this variable is set and the
# module is missing from the database.
export RB_EXPECT_VERIFACTU_OCA=1

bridge_tests es "Spanish bridge" \
    recurring_billing,recurring_billing_l10n_es,l10n_es_edi_sii,l10n_es_verifactu_oca \
    recurring_billing_l10n_es/tests "$ES_ADDONS" "$@"
