# The two commands a new user needs: `make run` and `make test`.
# Both set everything up first (scripts/setup.sh is idempotent and caches outside the clone).

.PHONY: setup run test lint unit nlu-report clean

setup:
	@bash scripts/setup.sh

run: setup
	@.venv/bin/wegwijs run

test: setup lint
	@.venv/bin/python -m pytest

unit: setup
	@.venv/bin/python -m pytest -m "not rasa and not e2e and not browser"

lint: setup
	@.venv/bin/python -m ruff check .
	@.venv/bin/python -m ruff format --check .

# Held-out evaluation and 5-fold cross-validation of the NLU model, written to reports/.
nlu-report: setup
	@.venv/bin/wegwijs nlu test
	@.venv/bin/wegwijs nlu cross-validate

clean:
	rm -rf .venv .venv-rasa .models .pytest_cache
