# The two commands a newcomer needs: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint lock bench load clean vendor-htmx i18n

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed") if sys.version_info < (3, 11) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

run: install  ## the whole system with the demo contest on http://127.0.0.1:8000
	$(BIN)/contest run

test: install  ## the whole suite, on DATABASE_URL/REDIS_URL if set, else on private servers
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check contest tests loadtests
	$(BIN)/ruff format --check contest tests loadtests
	$(BIN)/mypy contest

bench: install  ## pipeline and request-rate benchmarks (see loadtests/README.md)
	$(BIN)/python -m loadtests.bench_scoring
	$(BIN)/python -m loadtests.bench_requests

# The peak proof (loadtests/README.md): USERS at the peak, DURATION seconds, the DeadlineSpike shape, P95 ms limit.
USERS    ?= 2000
DURATION ?= 180
P95      ?= 500
load: install  ## the load test with its data check: a whole system, Locust headless, report in loadtests/results/
	$(BIN)/python -m loadtests.run_load --shape spike --users $(USERS) --duration $(DURATION) --p95-ms $(P95)

lock:  ## re-pin every dependency from pyproject.toml into requirements.lock
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/pip install --quiet -e '.[dev]'
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .lockenv

# Template text is Vietnamese (the msgids); English lives in contest/locales/en/LC_MESSAGES/messages.po, read at startup.
i18n: install  ## extract the templates' text into messages.pot and merge it into the English catalog to translate
	$(BIN)/pybabel -q extract -F babel.cfg --add-location=file --sort-output --no-wrap --project=contest \
	  -o contest/locales/messages.pot .
	$(BIN)/pybabel -q update -i contest/locales/messages.pot -d contest/locales -D messages -l en --no-wrap --ignore-obsolete

vendor-htmx:  ## refresh static/htmx.min.js from the npm package (version pinned in static/VENDOR.md)
	cd $$(mktemp -d) && npm pack --silent htmx.org@$(shell sed -n 's/^htmx.org@//p' static/VENDOR.md) \
	  && tar xzf htmx.org-*.tgz && cp package/dist/htmx.min.js $(CURDIR)/static/htmx.min.js

clean:
	rm -rf $(VENV) .data .pytest_cache
