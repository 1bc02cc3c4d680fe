# The two commands a new user needs: `make run` and `make test`.
# Both set everything up first (scripts/setup.sh is idempotent and caches outside the clone).

.PHONY: setup run test test-all lint unit nlu-report clean

setup:
	@bash scripts/setup.sh

run: setup
	@.venv/bin/wegwijs run

# Every real part, each paid for once; the full-size retraining in the browser (minutes of
# training) is left to test-all.
test: setup lint
	@.venv/bin/python -m pytest -m "not slow"

test-all: setup lint
	@.venv/bin/python -m pytest

# The in-process tests, on SQLite unless TEST_DATABASES says otherwise (about 2 minutes).
unit: setup
	@TEST_DATABASES=$${TEST_DATABASES:-sqlite} .venv/bin/python -m pytest \
		-m "not rasa and not e2e and not browser and not process and not slow"

lint: setup
	@.venv/bin/python -m ruff check .
	@.venv/bin/python -m ruff format --check .

# Held-out evaluation and 5-fold cross-validation of the NLU model, written to reports/.
nlu-report: setup
	@.venv/bin/wegwijs nlu test
	@.venv/bin/wegwijs nlu cross-validate

clean:
	rm -rf .venv .venv-rasa .models .pytest_cache
