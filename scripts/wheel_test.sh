#!/usr/bin/env bash
# The wheel test (run by `make test`, alone by `make wheel-test`): the addon
# as a user installs it from its Python package, never from this repository.
#   1. scripts/wheel.sh for the series under test ($RB_SERIES):
#      dist/odoo_addon_recurring_billing-<series>.<version>-py3-none-any.whl
#      (whool builds it from the files git tracks);
#   2. a separate virtualenv, .local/wheel-venv<series>, with that series'
#      requirements only (pip's cache makes reruns fast): nothing of the
#      project's own virtualenv, so the repository is not on its path;
#   3. `pip install --no-deps` of the wheel: the wheel requires `odoo`, which
#      is not on PyPI (Odoo is the source checkout in $ODOO_SRC), so pip
#      cannot resolve it; the addon's own Python dependency, python-dateutil,
#      is among Odoo's requirements already;
#   4. odoo-bin (from $ODOO_SRC, run by that virtualenv's python) with an
#      addons path of Odoo's own addons only: the installed addon is found
#      through the `odoo.addons` namespace in site-packages. A fresh database,
#      `-i recurring_billing` without demo data (step 2 of `make test` loads
#      the demo data already; here every file the manifest names, demo
#      included, must be in the installed package), the log checked;
#   5. the module is installed, and Odoo loaded it from site-packages.
source "$(dirname "$0")/lib.sh"
require_odoo
ensure_venv
ensure_pg
cd "$ROOT"
start=$(date +%s)

DB="${RB_WHEEL_DB:-rb_wheel$SERIES_TAG}"
LOGS="$STATE/logs/$DB"; mkdir -p "$LOGS"; rm -f "$LOGS"/*.log
WVENV="$STATE/wheel-venv$SERIES_TAG"
WPY="$WVENV/bin/python"
VERSION=$RB_SERIES.$("$PY" -c "import ast, sys; print(ast.literal_eval(open(sys.argv[1]).read())['version'])" \
    recurring_billing/__manifest__.py)

say "building the $RB_SERIES wheel (scripts/wheel.sh)"
rm -f dist/odoo_addon_recurring_billing-"$RB_SERIES".*.whl
bash scripts/wheel.sh "$RB_SERIES" >"$LOGS/build.log" 2>&1 || { cat "$LOGS/build.log"; die "the wheel build failed"; }
WHEEL=$(ls dist/odoo_addon_recurring_billing-"$VERSION"*.whl 2>/dev/null | head -1)
[ -n "$WHEEL" ] || die "make wheel built no dist/odoo_addon_recurring_billing-$VERSION*.whl"
say "built $WHEEL"

# The series' requirements in a virtualenv of its own, reinstalled only when
# they change.
reqs=$(series_requirements)
want=$(sha256sum "$reqs" | cut -d' ' -f1)
if [ ! -x "$WPY" ] || [ "$(cat "$WVENV/.requirements.sha" 2>/dev/null)" != "$want" ]; then
    say "preparing the clean virtualenv $WVENV (Odoo $RB_SERIES's requirements)"
    rm -rf "$WVENV"
    python3 -m venv "$WVENV"
    "$WPY" -m pip install -q --upgrade pip >"$LOGS/venv.log" 2>&1
    "$WPY" -m pip install -q --build-constraint scripts/build-constraints.txt -r "$reqs" >>"$LOGS/venv.log" 2>&1 ||
        { tail -20 "$LOGS/venv.log"; die "pip could not install $reqs into $WVENV"; }
    echo "$want" >"$WVENV/.requirements.sha"
fi
say "pip install --no-deps $WHEEL into $WVENV"
"$WPY" -m pip install -q --no-deps --force-reinstall "$WHEEL" >"$LOGS/pip.log" 2>&1 ||
    { cat "$LOGS/pip.log"; die "pip could not install the wheel"; }
SITE=$("$WPY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
[ -f "$SITE/odoo/addons/recurring_billing/__manifest__.py" ] ||
    die "the wheel did not install odoo/addons/recurring_billing into $SITE"
# Every file the manifest names (data, demo, asset globs) is in the package:
# whool packs only what git tracks.
"$WPY" - "$SITE/odoo/addons/recurring_billing" <<'PY' || die "the wheel lacks files the manifest names"
import ast, glob, os, sys
addon = sys.argv[1]
manifest = ast.literal_eval(open(os.path.join(addon, "__manifest__.py")).read())
names = manifest.get("data", []) + manifest.get("demo", [])
names += [g.split("/", 1)[1] for globs in manifest.get("assets", {}).values() for g in globs]
missing = [n for n in names if not glob.glob(os.path.join(addon, n))]
missing += [n for n in ("static/description/index.html", "static/description/icon.png", "README.rst")
            if not os.path.exists(os.path.join(addon, n))]
print("\n".join(f"missing from the wheel: {n}" for n in missing) or f"the wheel holds the {len(names)} files the manifest names")
sys.exit(1 if missing else 0)
PY

CFG="$STATE/$DB.cfg"
write_odoo_cfg "$CFG" "$DB" 0
# Odoo's own addons only: not the repository.
odoo_addons="$ODOO_SRC/odoo/addons"
[ ! -d "$ODOO_SRC/addons" ] || odoo_addons="$ODOO_SRC/addons,$odoo_addons"
sed -i "s|^addons_path = .*|addons_path = $odoo_addons|" "$CFG"
WORK="$STATE/wheel-run"; mkdir -p "$WORK"

say "fresh database $DB: odoo-bin -i recurring_billing from the installed wheel"
drop_db "$DB"
# From a folder outside the repository: nothing of it on sys.path.
(cd "$WORK" && "$WPY" "$ODOO_SRC/odoo-bin" -c "$CFG" -d "$DB" -i recurring_billing \
    --without-demo=True --no-http --stop-after-init --log-level=info) >"$LOGS/install.log" 2>&1 ||
    { tail -40 "$LOGS/install.log"; die "installing from the wheel failed (see $LOGS/install.log)"; }
"$PY" dev/checklog.py "$LOGS/install.log"

state=$(psql -d "$DB" -qtAc "SELECT state || ' ' || latest_version FROM ir_module_module WHERE name = 'recurring_billing'")
[ "$state" = "installed $VERSION" ] || die "recurring_billing in $DB: '$state', not 'installed $VERSION'"
# Where Odoo finds the module with this configuration: in site-packages.
path=$(cd "$WORK" && "$WPY" - "$CFG" <<PY
import sys
sys.path.insert(0, "$ODOO_SRC")
from odoo.tools import config
from odoo.modules.module import get_module_path, initialize_sys_path
config.parse_config(["-c", sys.argv[1]])
initialize_sys_path()
print(get_module_path("recurring_billing"))
PY
)
case "$path" in
    "$SITE"/odoo/addons/recurring_billing) ;;
    *) die "Odoo finds recurring_billing at '$path', not in $SITE" ;;
esac
grep -q "addons paths:.*$SITE/odoo/addons" "$LOGS/install.log" ||
    die "the install log does not list $SITE/odoo/addons among Odoo's addons paths"
if grep "addons paths:" "$LOGS/install.log" | grep -qF "$ROOT'"; then
    die "the repository $ROOT is on Odoo's addons path: the test would not prove the wheel"
fi
say "wheel test passed in $(( $(date +%s) - start )) s: $(basename "$WHEEL") installed, module loaded from $path"
drop_db "$DB"
