# Backprop from Scratch. The two commands a reader needs: `make book` and `make test`.
# Every target that needs Python first makes sure .venv exists and matches requirements.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements.sha256
BOOK   := _build/html
PORT   ?= 8000

.DEFAULT_GOAL := help

# One BLAS thread per process. The chapters multiply small matrices, for which a
# second OpenBLAS thread mostly waits for the first; beside other busy processes (the
# grading tests in `make test`) those waits made a chapter run many times slower at
# low CPU use. A value set in the environment still wins.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
.PHONY: help venv book serve test test-code test-docs lint test-lint test-exercises-sync test-url test-package test-grading \
        test-exercises test-notebooks test-book test-browser grade exercises system-deps clean \
        bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 24

# The environment is rebuilt when requirements.txt or pyproject.toml change (hash, not mtime).
venv:  ## create or refresh .venv from requirements.txt
	@want=$$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1); \
	have=$$(cat $(STAMP) 2>/dev/null); \
	if [ ! -x $(BIN)/python ] || [ "$$want" != "$$have" ]; then \
	  echo ">> setting up $(VENV) from requirements.txt"; \
	  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || exit 1; \
	  $(BIN)/python -m pip install --quiet --upgrade pip || exit 1; \
	  $(BIN)/python -m pip install --quiet -r requirements.txt || exit 1; \
	  echo "$$want" > $(STAMP); \
	fi

system-deps:  ## install Chromium and bubblewrap where the machine allows (root + apt)
	@tools/system-deps.sh

book: venv  ## build the book (executes every chapter) and print where to open it
	@tools/vendor-js.sh || echo "!! JS not vendored (no npm?): the book will load MathJax from the web"
	@$(BIN)/python tools/repository_url.py || true
	$(BIN)/jupyter-book build . --builder html
	@echo; echo "The book is at: file://$(CURDIR)/$(BOOK)/index.html"; \
	 echo "Serve it with:  make serve   (http://localhost:$(PORT)/)"

serve: venv  ## serve the built book on localhost
	@[ -f $(BOOK)/index.html ] || $(MAKE) book
	@echo "Serving http://localhost:$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory $(BOOK)

exercises: venv  ## regenerate exercises/ from solutions/
	$(BIN)/course exercises

grade: venv  ## grade your exercises (all chapters); e.g. make grade CH=ch03
	$(BIN)/course grade $(CH)

# ---- the test suite ------------------------------------------------------------------
test: venv system-deps  ## run everything CI runs (code and book checks side by side)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j2 --output-sync=target test-code test-docs || exit 1; \
	echo ">> make test passed in $$(( $$(date +%s) - start )) s"

test-code: venv  ## lint, engine, autograder and graded tests, one after another
	@MAKEFLAGS= $(MAKE) --no-print-directory test-lint test-exercises-sync test-url test-package \
	        test-grading test-exercises

test-docs: venv  ## every chapter under nbval, then the book build and the browser test
	@MAKEFLAGS= $(MAKE) --no-print-directory test-notebooks test-book test-browser

lint: venv  ## ruff over the code (the check make test runs)
	$(BIN)/ruff check course_lib tests solutions benchmarks tools

test-lint: lint  ## the lint step of make test

test-exercises-sync: venv  ## exercises/ is exactly what solutions/ generate
	$(BIN)/course exercises --check

# The launch links and set-up cells use repository.url of _config.yml: out-of-sync cells always
# fail; the placeholder address fails only for a published build (COURSE_PUBLISH=1, set by the
# Pages workflow), since this repository's own CI legitimately runs with it.
test-url: venv  ## one repository address everywhere; placeholder refused when COURSE_PUBLISH=1
	$(BIN)/python tools/repository_url.py

test-package: venv  ## engine tests (gradient checks, properties, learning)
	$(BIN)/pytest tests/package -q

test-grading: venv  ## autograder tests (stubs, sandbox, fairness, release, hostile submissions)
	$(BIN)/pytest tests/grading -q

test-exercises: venv  ## the graded tests against the reference solutions, hidden ones included
	$(BIN)/pytest tests/exercises --target solutions -q

test-notebooks: venv  ## execute every chapter with nbval
	$(BIN)/pytest --nbval-lax --nbval-cell-timeout=300 book -q -p no:cacheprovider

test-book: venv  ## warnings-as-errors book build with execution
	tools/vendor-js.sh
	rm -rf _build
	$(BIN)/jupyter-book build . --builder html -W --keep-going

test-browser: venv  ## open every page of the built book in headless Chromium
	$(BIN)/pytest tests/book -q

clean:  ## remove build outputs (keeps .venv)
	rm -rf _build build-artifacts dist .pytest_cache

bench: venv  ## run every benchmark (not part of make test); each rewrites its section of benchmarks/results.md
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.beyond_mlp
	$(BIN)/python -m benchmarks.conv_rnn
	$(BIN)/python -m benchmarks.feedback_time --write
