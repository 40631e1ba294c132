# Fieldwork: `make run` to try it, `make test` to check it. Everything it needs is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app server
PYTEST_WORKERS ?= 2
POSTGRES_URL ?= $(or $(FIELDWORK_TEST_POSTGRES_URL),postgresql://postgres@127.0.0.1:5432/postgres)

.PHONY: run serve test lint format test-sqlite test-postgres system-deps test-system-deps translations clean bench-deps lock technician-app test-app

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.requirements: requirements.txt requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -c requirements.lock
	touch $@

$(VENV)/.requirements-dev: requirements.txt requirements-dev.txt requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt -c requirements.lock
	touch $@ $(VENV)/.requirements

# Re-resolve every version into requirements.lock in a throw-away venv (after editing a
# requirements file, or to take new releases on purpose).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -r requirements-dev.txt
	{ sed -n '1,3p' requirements.lock; .lock-venv/bin/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf .lock-venv

# What the OS must provide for PDFs: Pango (WeasyPrint) and a CJK font. Installed when missing.
system-deps:
	@missing=""; \
	ldconfig -p | grep -q 'libpango-1.0.so' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	fc-list ':lang=zh' 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	command -v fc-list >/dev/null || missing="$$missing fontconfig"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# What the tests need besides: Chromium (console browser tests), poppler-utils (pdftoppm,
# pdftotext, pdffonts check the sheets), Dovecot (the real IMAP server of the intake tests),
# pg_dump/pg_restore (the backup tests).
test-system-deps: system-deps
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	command -v dovecot >/dev/null || missing="$$missing dovecot-imapd"; \
	command -v pg_dump >/dev/null || missing="$$missing postgresql-client"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The console's front-end libraries (package.json, locked): reinstalled when the lock changes.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (the console needs its libraries)." >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

# The technicians' phone app (technician_app/, its own locked package.json): npm ci when
# the lock changes, a build into technician_app/dist (served at /app/) when a source does.
APP := technician_app
APP_SOURCES := $(shell find $(APP)/src $(APP)/public -type f 2>/dev/null) $(APP)/index.html \
  $(APP)/vite.config.ts $(APP)/tsconfig.json $(APP)/tsconfig.sw.json

$(APP)/node_modules/.installed: $(APP)/package.json $(APP)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20.19+ (the technicians' app is built with it)." >&2; exit 1; }
	cd $(APP) && npm ci --no-audit --no-fund
	touch $@

$(APP)/dist/.built: $(APP)/node_modules/.installed $(APP_SOURCES)
	cd $(APP) && npm run build
	touch $@

technician-app: $(APP)/dist/.built

# The app's own checks: ESLint, tsc --noEmit (app and service worker), Vitest.
test-app: $(APP)/node_modules/.installed
	cd $(APP) && npm run lint && npm run typecheck && npm test

translations: $(VENV)/.requirements
	$(BIN)/python -c "from server.i18n import compile_translations; compile_translations()"

# Links in e-mails, PDFs and QR codes point at this server's PORT unless FIELDWORK_BASE_URL is
# set: in the environment, on the command line or in .env (the settings read .env only for
# what the environment leaves unset, so a value there is passed on rather than overridden).
run: export FIELDWORK_BASE_URL ?= $(or $(shell test -f .env && $(BIN)/python -c \
  'from dotenv import dotenv_values; print(dotenv_values(".env").get("FIELDWORK_BASE_URL") or "")' \
  2>/dev/null),http://127.0.0.1:$(PORT))
run: $(VENV)/.requirements system-deps translations node_modules/.installed technician-app
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Fieldwork on http://127.0.0.1:$(PORT)  (Ctrl-C to stop); links in messages: $(FIELDWORK_BASE_URL)"
	@# Web server, background worker and scheduler in one process group: Ctrl-C stops all.
	@# One web process: sign-in throttling counts in memory unless FIELDWORK_RATELIMIT_STORAGE_URL
	@# names a shared store (redis://…), which several web processes need.
	trap 'kill 0' EXIT INT TERM; \
	$(FLASK) worker & \
	$(FLASK) scheduler & \
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --worker-class gthread --workers 1 --threads 8 \
	  --timeout 60 --access-logfile - --logger-class server.gunicorn_logging.RedactingLogger \
	  'server:create_app()'

lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.requirements-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-sqlite: $(VENV)/.requirements-dev translations node_modules/.installed technician-app test-system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --db=sqlite

# PostgreSQL runs when it answers; under CI=true a missing server is a failure, not a skip.
test-postgres: $(VENV)/.requirements-dev translations node_modules/.installed technician-app test-system-deps
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(POSTGRES_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== PostgreSQL run =="; \
	  FIELDWORK_TEST_POSTGRES_URL='$(POSTGRES_URL)' $(BIN)/pytest -n $(PYTEST_WORKERS) --db=postgresql \
	    tests/integration tests/api tests/mobile_api tests/console tests/pdf tests/technician_app; \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL is not reachable at $(POSTGRES_URL) and CI=true: failing." >&2; exit 1; \
	else \
	  echo "PostgreSQL not reachable at $(POSTGRES_URL): skipping the PostgreSQL run."; \
	fi

test: lint test-app
	@echo "== SQLite run =="
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# wrk drives the HTTP benchmarks (python -m bench.mobile_sync). Installed when missing.
# OR-Tools pins an older protobuf than the app's lock: the bench venv takes that one.
bench-deps: $(VENV)/.requirements-dev
	grep -v '^protobuf==' requirements.lock > $(VENV)/bench-constraints.txt
	$(BIN)/pip install --quiet -r requirements-bench.txt -c $(VENV)/bench-constraints.txt
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }

clean:
	rm -rf $(VENV) instance
