#!/usr/bin/env bash
# The upgrade test (run by `make test`, alone by `make upgrade-test`):
#   1. the previous release, i.e. the newest git tag 18.0.* older than the
#      working tree's manifest version (or --from TAG / RB_UPGRADE_FROM),
#      is extracted with `git archive` into a temporary folder;
#   2. it is installed into a fresh database (without demo data) with ITS
#      addons path; contracts are created and billed by the scheduled action
#      (dev/upgrade_check.py prepare: posted invoices, ledger rows);
#   3. the database is upgraded to the working tree: `-u recurring_billing`
#      with the addons path on the working tree, its log checked;
#   4. dev/upgrade_check.py check: the same contracts, lines, ledger rows
#      and invoices (counts, amounts, states), the module at the working
#      version, the next period billed exactly once, a rerun bills nothing.
# Without release tags (a clone made with --no-tags), the previous release is
# the tree just before the commit that raised the manifest's version; only a
# history that does not reach an older version fails: a silent pass would
# hide an untested upgrade.
source "$(dirname "$0")/lib.sh"

FROM="${RB_UPGRADE_FROM:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --from) FROM="$2"; shift 2 ;;
        *) die "unknown option $1 (usage: scripts/upgrade_test.sh [--from TAG])" ;;
    esac
done

# The parent of the oldest commit, on the first-parent line of HEAD, from
# which on the manifest holds the working version: the last tree of the
# previous release. Empty when the history does not reach an older version.
# A manifest's version with the series in front, as Odoo reads it: the
# manifests say 1.2.0 since the addon serves two series (18.0.1.2.0 here).
full_version() {
    case "$1" in
        "$RB_SERIES".*) echo "$1" ;;
        *) echo "$RB_SERIES.$1" ;;
    esac
}

previous_release_commit() {
    local working="$1" commit version bump=""
    for commit in $(git -C "$ROOT" log --first-parent --format=%H -- recurring_billing/__manifest__.py); do
        version=$(full_version "$(git -C "$ROOT" show "$commit:recurring_billing/__manifest__.py" |
            "$PY" -c "import ast, sys; print(ast.literal_eval(sys.stdin.read()).get('version', ''))")")
        if [ "$version" = "$working" ]; then
            bump=$commit
        else
            break
        fi
    done
    [ -n "$bump" ] && [ -n "$version" ] && [ "$version" != "$working" ] || return 0
    git -C "$ROOT" rev-parse -q --verify "$bump^1" || true
}

require_odoo
ensure_venv
cd "$ROOT"
start=$(date +%s)

WORKING=$(full_version "$("$PY" -c "import ast, sys; print(ast.literal_eval(open(sys.argv[1]).read())['version'])" \
    recurring_billing/__manifest__.py)")
if [ -z "$FROM" ]; then
    tags=$(git -C "$ROOT" tag -l '18.0.*')
    if [ -n "$tags" ]; then
        # The newest tag strictly older than the working version.
        FROM=$("$PY" - "$WORKING" $tags <<'PY'
import sys
key = lambda v: tuple(int(p) for p in v.split("."))
working, tags = sys.argv[1], sys.argv[2:]
older = sorted((t for t in tags if key(t) < key(working)), key=key)
print(older[-1] if older else "")
PY
)
    fi
    if [ -z "$FROM" ]; then
        # A clone without tags (CI clones main with --no-tags, for one) still
        # has the history: the previous release is the tree just before the
        # commit that raised the manifest to the working version.
        if [ "$(git -C "$ROOT" rev-parse --is-shallow-repository)" = true ]; then
            git -C "$ROOT" fetch -q --unshallow 2>/dev/null ||
                die "a shallow clone without release tags: the upgrade test needs the previous release.
    Fetch the history and tags (git fetch --unshallow --tags) or name one: scripts/upgrade_test.sh --from TAG"
        fi
        FROM=$(previous_release_commit "$WORKING")
        [ -n "$FROM" ] || die "no release older than the working version $WORKING in this clone's history.
    Fetch the tags (git fetch --tags) or name one: scripts/upgrade_test.sh --from TAG"
        say "no release tag in this clone: the previous release is $FROM, the parent of the commit that set version $WORKING"
    fi
fi
git -C "$ROOT" rev-parse -q --verify "refs/tags/$FROM^{commit}" >/dev/null ||
    git -C "$ROOT" rev-parse -q --verify "$FROM^{commit}" >/dev/null ||
    die "no such tag or commit: $FROM"
say "upgrade test: $FROM -> working tree ($WORKING)"
ensure_pg

DB="${RB_UPGRADE_DB:-rb_upgrade}"
CHECK_TIMEOUT="${RB_UPGRADE_CHECK_TIMEOUT:-600}"  # seconds; a check takes ~30 s
LOGS="$STATE/logs/$DB"; mkdir -p "$LOGS"; rm -f "$LOGS"/*.log
OLD="$STATE/upgrade/$FROM"
rm -rf "$OLD"; mkdir -p "$OLD"
trap 'rm -rf "$OLD"' EXIT
git -C "$ROOT" archive "$FROM" recurring_billing | tar -x -C "$OLD"
[ -f "$OLD/recurring_billing/__manifest__.py" ] || die "$FROM holds no recurring_billing/"

OLD_CFG="$STATE/$DB-old.cfg"
NEW_CFG="$STATE/$DB.cfg"
write_odoo_cfg "$NEW_CFG" "$DB" 0
sed "s|^addons_path = .*|addons_path = $ODOO_SRC/odoo/addons,$OLD|" "$NEW_CFG" >"$OLD_CFG"
grep -q "^addons_path = $ODOO_SRC/odoo/addons,$ROOT\$" "$NEW_CFG" || die "unexpected addons_path in $NEW_CFG"

run_odoo() {  # $1 = log name, then odoo-bin arguments
    local log="$LOGS/$1.log"; shift
    odoo_bin "$@" --no-http --stop-after-init --log-level=info >"$log" 2>&1 ||
        { tail -40 "$log"; die "odoo-bin failed (see $log)"; }
    "$PY" dev/checklog.py "$log"
}
run_check() {  # $1 = log name, then upgrade_check.py arguments
    local log="$LOGS/$1.log"; shift
    set +e
    # A time limit: a billing run that makes no progress must fail the test,
    # not hang CI (seen with a migration that changed billed contracts'
    # interval: the engine claimed the same contracts again and again).
    PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" timeout --kill-after=30 "$CHECK_TIMEOUT" \
        "$PY" dev/upgrade_check.py "$@" --db "$DB" --state "$LOGS/state.json" 2>&1 |
        tee "$log" | grep --line-buffered -E '^(ok|FAIL|prepared|upgrade check)'
    local rc=${PIPESTATUS[0]}
    set -e
    [ "$rc" = 124 ] && say "upgrade_check.py $1 did not finish within $CHECK_TIMEOUT s"
    [ "$rc" = 0 ] || { tail -30 "$log"; die "upgrade check failed: $1 (see $log)"; }
    "$PY" dev/checklog.py "$log"
}

say "installing $FROM into a fresh database $DB (its own addons path)"
drop_db "$DB"
run_odoo install-old -c "$OLD_CFG" -d "$DB" -i recurring_billing --without-demo=True
say "contracts and billed periods on $FROM"
run_check prepare prepare --config "$OLD_CFG"

say "upgrading $DB to the working tree (-u recurring_billing)"
run_odoo upgrade -c "$NEW_CFG" -d "$DB" -u recurring_billing
run_check check check --config "$NEW_CFG" --version "$WORKING"

drop_db "$DB"
say "upgrade test $FROM -> $WORKING passed in $(( $(date +%s) - start )) s"
