# The two commands a new user needs: `make run` and `make test`.
# Both set everything up first (scripts/setup.sh is idempotent and caches outside the clone).

.PHONY: setup run test test-all lint unit coverage nlu-report clean

setup:
	@bash scripts/setup.sh

run: setup
	@.venv/bin/wegwijs run

# Two pytest workers, one per core: much of a real part's time is waiting for a process
# (Rasa, the bot, chromium), which the other worker fills. A module stays on one worker, so
# its shared bot or app is started once. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
PYTEST = .venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadscope

# Every real part, each paid for once; the full-size retraining in the browser (minutes of
# training) is left to test-all.
test: setup lint
	@$(PYTEST) -m "not slow"

test-all: setup lint
	@$(PYTEST)

# The in-process tests, on SQLite unless TEST_DATABASES says otherwise (under a minute).
unit: setup
	@TEST_DATABASES=$${TEST_DATABASES:-sqlite} $(PYTEST) \
		-m "not rasa and not e2e and not browser and not process and not slow"

# Line coverage of `make test`'s suite, the processes it starts included.
coverage: setup
	@rm -f .coverage .coverage.*
	@.venv/bin/python -m coverage run -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not slow"
	@.venv/bin/python -m coverage combine --quiet
	@.venv/bin/python -m coverage report --sort=cover

lint: setup
	@.venv/bin/python -m ruff check .
	@.venv/bin/python -m ruff format --check .

# Held-out evaluation and 5-fold cross-validation of the NLU model, written to reports/.
nlu-report: setup
	@.venv/bin/wegwijs nlu test
	@.venv/bin/wegwijs nlu cross-validate

clean:
	rm -rf .venv .venv-rasa .models .pytest_cache
