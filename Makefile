# Every target sets up what it needs: a fresh clone runs `make test` or `make demo` directly.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Compile dependencies' bytecode at install, as pip does: otherwise, wherever bytecode is not
# written (PYTHONDONTWRITEBYTECODE, read-only trees), every run compiles rich, asyncio's helpers
# and the rest again, about 0.1 CPU-s per start.
export UV_COMPILE_BYTECODE := 1

STATIC := src/horde/web/static/vendor

.PHONY: setup web-assets test lint format docs docs-serve demo bench bench-engine bench-compare bench-verdicts clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# Front-end libraries come from npm by the lock file and are copied next to the package; nothing
# third-party is committed. hatch_build.py does it, as it does when a wheel or an sdist is built.
$(STATIC)/.built: web/package.json web/package-lock.json hatch_build.py
	$(PYTHON) hatch_build.py
	touch $@

web-assets: $(STATIC)/.built

# horde itself is installed editable: its bytecode is refreshed here (a no-op when current).
setup: $(VENV)/.synced web-assets
	$(VENV)/bin/python -m compileall -q src examples

# ruff, the layers (import contracts in pyproject.toml) and the types (mypy over src/).
lint: setup
	$(VENV)/bin/ruff check src tests bench examples docs/hooks
	$(VENV)/bin/ruff format --check src tests bench examples docs/hooks
	$(VENV)/bin/ruff check deploy && $(VENV)/bin/ruff format --check deploy
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint Dockerfile

format: setup
	$(VENV)/bin/ruff format src tests bench examples docs/hooks
	$(VENV)/bin/ruff check --fix src tests bench examples docs/hooks

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The documentation site, into site/ (open site/index.html). Strict: a broken link or reference,
# or any other warning, fails the build; make test builds it the same way (tests/docs).
docs: setup
	$(VENV)/bin/properdocs build --strict --config-file mkdocs.yml

docs-serve: setup
	$(VENV)/bin/properdocs serve --config-file mkdocs.yml

demo: setup
	$(VENV)/bin/python examples/demo.py $(ARGS)

# The whole harness behind docs/performance.md (about 70 minutes on 2 cores; run it on a quiet
# machine): horde alone, then against Locust and wrk, then the comparison's error rates. Each
# part also runs by itself.
bench: bench-engine bench-compare bench-verdicts

bench-engine: setup
	$(VENV)/bin/python bench/simple.py
	$(VENV)/bin/python bench/python_cost.py
	$(VENV)/bin/python bench/health_cost.py
	$(VENV)/bin/python bench/metrics_scrape.py
	$(VENV)/bin/python bench/web_polling.py
	$(VENV)/bin/python bench/accuracy.py
	$(VENV)/bin/python bench/startup.py
	$(VENV)/bin/python bench/distributed_overhead.py
	$(VENV)/bin/python bench/distributed_scaling.py

# Locust comes from the bench dependency group; nginx and wrk from Debian's packages (installed
# by bench/compare.py when running as root).
bench-compare: setup
	$(UV) sync --frozen --python $(PYTHON) --group bench
	$(VENV)/bin/python bench/compare.py $(ARGS)
	$(VENV)/bin/python bench/compare.py --realistic $(ARGS)
	$(VENV)/bin/python bench/blocking_libraries.py $(ARGS)
	$(VENV)/bin/python bench/memory_compare.py

# How often horde compare calls noise a regression, and catches a real one (about 45 minutes:
# real runs against bench/latency_server.py); writes docs/comparing-runs.md.
bench-verdicts: setup
	$(VENV)/bin/python bench/comparison_errors.py $(ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) site .pytest_cache .ruff_cache .mypy_cache .import_linter_cache web/node_modules src/horde/web/static
