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
	@echo "  $(BIN)/python -m http.server --bind 127.0.0.1 --directory $(DEMO_OUT) 8000   # then http://127.0.0.1:8000/"

# The tests' temporary folders (~36,000 files, ~250 MB a run) go to a tmpfs when there is one with
# room: on a disk mounted with `discard` each unlink costs ~2 ms, and pytest deletes an old run's
# folders at the end of every run (a minute of unlinks, measured). Without one: the usual TMPDIR.
TEST_TMPDIR ?= $(shell d=/dev/shm/newsletter-tests; [ "$$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 {print $$4}')" -gt 2000000 ] 2>/dev/null && mkdir -p -m 1777 $$d && echo $$d)
# PYTHONDONTWRITEBYTECODE (set in some environments) would make every worker compile the tests
# and rewrite their asserts anew: ~1.7 s of CPU per worker per run; pytest caches both otherwise
# (tests/__pycache__, git-ignored).
PYTEST := $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR) )PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest
# Four workers on two cores: much of the suite's time is spent waiting (on SMTP timeouts,
# servers starting, Chromium, subprocesses), not computing — more so since the CLI subprocesses
# fork from a warm process (tests/helpers/forkserver.py): ~110-145 s of CPU in ~90 s with -n 4,
# ~107 s with -n 3 (measured in turns on a shared machine). `make test TEST_WORKERS=3` for the old way.
TEST_WORKERS ?= 4

test: lint
	$(PYTEST) -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)  # worksteal: an idle worker takes tests queued for the busy one (long tail)

lint: $(STAMP)
	$(BIN)/ruff check newsletter tests tools benchmarks
	$(BIN)/ruff format --check newsletter tests tools benchmarks
	$(BIN)/mypy newsletter

fmt: $(STAMP)
	$(BIN)/ruff format newsletter tests tools benchmarks

test-slow: $(STAMP)  # the many-trial fault tests (kill -9 at random moments), ~45 s more
	$(PYTEST) -n $(TEST_WORKERS) --dist worksteal -m slow $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf feeds/* .newsletter build dist .pytest_cache
	touch feeds/.gitkeep

distclean: clean
	rm -rf $(VENV)
