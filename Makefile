# recurring_billing: every target sets up what it needs (virtualenv, the
# project's own PostgreSQL cluster, Debian packages when run as root).
# Odoo 18.0 is looked for in $(ODOO_SRC) (default /opt/odoo18), Odoo 19.0 in
# $(ODOO19_SRC) (default /opt/odoo19).
.PHONY: demo test test-core fuzz lint faults host-tests bench bench-dashboard wheel clean upgrade-test wheel-test readme

# The Odoo series of `make demo` (and of the single-series targets below):
# 18.0 (the default) or 19.0, e.g. `make demo SERIES=19.0`. `make test` runs
# both series.
SERIES ?= 18.0
export RB_SERIES = $(SERIES)

demo:     ## fresh demo database, one billing run, summary, serve on :8069; SERIES=19.0 for Odoo 19.0
	bash scripts/demo.sh

test:     ## lint + install + the whole suite (pytest-odoo, tours) + faults + host tests, on 18.0 then 19.0
	RB_SERIES=18.0 bash scripts/test.sh

test-core: ## the schedule core's tests, without Odoo or a database
	bash -c 'source scripts/lib.sh; ensure_venv; "$$PY" "$$ROOT/scripts/test_core.py"'

fuzz:     ## the model-based test of contract lives, long run; ARGS="--examples 500 --seed 1"
	bash scripts/fuzz.sh $(ARGS)

lint:     ## pre-commit: ruff, ruff format, pylint-odoo mandatory checks
	bash -c 'source scripts/lib.sh; ensure_venv; cd "$$ROOT"; .venv/bin/pre-commit run --all-files --show-diff-on-failure'

faults:   ## the fault suite at full size (10,000 contracts)
	bash scripts/faults.sh

host-tests: ## Odoo's own sale, sale_management tests with vs without the addon; ARGS=--full adds account, portal, payment
	bash scripts/host_tests.sh $(ARGS)

bench:    ## benchmark against Odoo's own create+post floor
	bash scripts/bench.sh

bench-dashboard: ## the revenue dashboard's data call on 10,000 contracts with movements
	bash scripts/bench_dashboard.sh $(ARGS)

wheel:    ## build the installable wheels into dist/, one per Odoo series (18.0, 19.0)
	bash scripts/wheel.sh

clean:    ## stop the cluster and remove .local/ (databases, logs)
	bash -c 'source scripts/lib.sh; d=$$(pg_data_dir); [ -f "$$d/PG_VERSION" ] && pg_run "$$(pg_bin)/pg_ctl" -D "$$d" stop -m fast || true; rm -rf "$$ROOT/.local" "$$(dirname $$d)"'

upgrade-test: ## the previous release tag installed, billed, upgraded to the working tree, checked; ARGS="--from TAG"
	bash scripts/upgrade_test.sh $(ARGS)

wheel-test: ## the SERIES wheel (default 18.0) pip-installed into a clean virtualenv of that series, odoo-bin -i recurring_billing from it
	bash scripts/wheel_test.sh

readme:   ## regenerate recurring_billing/README.rst from recurring_billing/readme/*.md
	bash -c 'source scripts/lib.sh; ensure_venv; "$$PY" "$$ROOT/scripts/gen_readme.py" || true'

.PHONY: test-queue-job
test-queue-job: ## the job queue bridge's tests (queue_job from PyPI into .local/queue_job), database of its own
	bash scripts/test_queue_job.sh
