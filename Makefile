# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint fmt test-slow bench clean distclean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q newsletter  # as installing the wheel would: no compiling at every start
	$(BIN)/python -m newsletter.render.precompile  # the bundled templates likewise (read-only for builds)
	touch $(STAMP)

DEMO_OUT ?= feeds
DEMO_STATE ?= .newsletter

demo: $(STAMP)
	$(BIN)/newsletter build examples/bulletins --config examples/newsletter.toml --out $(DEMO_OUT) --state $(DEMO_STATE)
	@echo
	@echo "Open $(DEMO_OUT)/index.html in a browser, or serve the folder:"
	@echo "  $(BIN)/python -m http.server --directory $(DEMO_OUT) 8000   # then http://127.0.0.1:8000/"

test: lint
	$(BIN)/python -m pytest -n 2 --dist worksteal $(PYTEST_ARGS)  # worksteal: an idle worker takes tests queued for the busy one (long tail)

lint: $(STAMP)
	$(BIN)/ruff check newsletter tests
	$(BIN)/ruff format --check newsletter tests tools benchmarks
	$(BIN)/mypy newsletter

fmt: $(STAMP)
	$(BIN)/ruff format newsletter tests tools benchmarks

test-slow: $(STAMP)  # the many-trial fault tests (kill -9 at random moments), ~1 minute more
	$(BIN)/python -m pytest -n 2 --dist worksteal -m slow $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf feeds/* .newsletter build dist .pytest_cache
	touch feeds/.gitkeep

distclean: clean
	rm -rf $(VENV)
