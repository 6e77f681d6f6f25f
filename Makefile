# The two commands a newcomer runs (see README): `make run` and `make test`.
# Needs Python 3.11+, Node 20+, git and make; everything else is installed here.

UV_VERSION := 0.13.8
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test install backend frontend test-backend test-frontend test-e2e services

## Install everything, build the UI, and start the app on embedded defaults (SQLite, offline model).
run: install
	$(UV) run agente-films serve

## Install everything and run every test suite.
test: install services
	$(UV) run pytest -q
	cd frontend && npm test
	cd frontend && npm run e2e

install: backend frontend

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

backend: $(UV)
	$(UV) sync --frozen --quiet

frontend:
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build

## Start PostgreSQL and Redis if they are installed but down; install Chromium for browser tests.
services:
	bash scripts/ensure-services.sh
