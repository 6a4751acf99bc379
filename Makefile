# Two commands for a newcomer: `make book` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test validate fmt lint serve bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $@

validate: $(STAMP)
	$(BIN)/livingreview validate

fmt: $(STAMP)
	$(BIN)/livingreview fmt

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# --- book (Jupyter Book 1) ---------------------------------------------------------------------------------
# `make book` validates the data, then builds _build/html unless no input changed since the last successful
# build (stamp), so a no-change `make book` does not even start jupyter-book. Inside jupyter-book,
# livingreview.book.sphinx re-reads (and so re-executes) a page only when the content of what it shows changed:
# the rows of its diseases, the schema, references.bib, the package code, or the version for pages that show it.
BOOK_INPUTS := _config.yml _toc.yml references.bib requirements.txt CONTRIBUTING.md CITATION.cff \
               $(sort $(wildcard book/*.md book/*.ipynb book/_static/* data/*) \
                 $(shell find src/livingreview -name '*.py' -not -path '*/__pycache__/*'))
BOOK_LIST   := _build/.book-inputs
BOOK_STAMP  := _build/html/.book-stamp
# Warnings (missing references with -n, stderr of cells) and cell errors fail the build. The checkout's own
# src/ comes first on the path, so a copy of the repository builds with its own code.
BOOK_BUILD  := PYTHONPATH="$(CURDIR)/src$${PYTHONPATH:+:$$PYTHONPATH}" $(BIN)/jupyter-book build . \
               --builder html --warningiserror --nitpick --keep-going
# A file removed from the inputs (e.g. a deleted page or data file) must trigger a build too.
$(shell mkdir -p _build && (echo '$(BOOK_INPUTS)' | cmp -s - $(BOOK_LIST) || echo '$(BOOK_INPUTS)' > $(BOOK_LIST)))

book: validate $(BOOK_STAMP)

# The stamp gets the time the build started, so an input edited during a build triggers the next one.
# On failure the Sphinx environment is dropped: Sphinx does not repeat the warnings of pages it does not
# re-read, so an incremental build after a failed one could otherwise pass without fixing anything.
$(BOOK_STAMP): $(STAMP) $(BOOK_INPUTS) $(BOOK_LIST) | validate
	@mkdir -p $(@D) && touch $@.start
	@$(BOOK_BUILD) || { rm -rf _build/.doctrees _build/jupyter_execute $@.start; exit 1; }
	@mv $@.start $@

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

PORT ?= 8000
serve: book
	@echo "Serving _build/html on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .jupyter_cache
