# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# Prefect stays quiet and offline: its home lives in the work folder, analytics off.
export PREFECT_HOME ?= $(CURDIR)/.ism/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test test-fast test-property lint lock bench server clean

# Bytecode compiled at install: every CLI process imports Prefect and GX, and where .pyc files are not written
# (PYTHONDONTWRITEBYTECODE, a read-only venv) each would compile them again, seconds per process.
$(BIN)/ism: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(BIN)/ism

demo: $(BIN)/ism  ## Publish the embedded demo map.
	$(BIN)/ism refresh examples/demo/ism.toml

test: $(BIN)/ism  ## Run the test suite, a worker per core (a file's tests stay on one worker, sharing its fixtures).
	$(BIN)/python -m pytest -n auto --dist loadfile

FAST_TESTS := not (browser or database or office or wheel)
test-fast: $(BIN)/ism  ## The inner loop: every test but the browser, database, office and wheel ones.
	$(BIN)/python -m pytest -n auto --dist loadfile -m "$(FAST_TESTS)"

test-property: $(BIN)/ism  ## The property tests with many more generated cases (Hypothesis profile `large`).
	HYPOTHESIS_PROFILE=large $(BIN)/python -m pytest tests/property tests/transforms/test_numbers.py -p no:cacheprovider \
		--hypothesis-show-statistics -q

SIZE ?= S
ROUNDS ?= 1
bench: $(BIN)/ism  ## Benchmark a synthetic map of SIZE=S|M|L against a bare DuckDB pass (bench/results/).
	$(BIN)/python -m bench.run --size $(SIZE) --rounds $(ROUNDS)

PREFECT_PORT ?= 4200
server: $(BIN)/ism  ## A Prefect server on loopback for `ism serve`: PREFECT_API_URL=http://127.0.0.1:4200/api
	$(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

lint: $(BIN)/ism
	$(BIN)/ruff check .
	$(BIN)/mypy flows sources transforms outputs expectations examples

lock:  ## Re-resolve requirements.lock from pyproject.toml.
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .ism build
