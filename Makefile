# irn: the two commands a newcomer needs are `make book` and `make test` (see README.md).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.irn-installed
# Extra pip arguments for torch only, e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=
# The chapter notebooks: book/NN_name.md files with a jupytext header (plain pages have none).
NOTEBOOKS = $(shell grep -l '^jupytext:' book/[0-9]*.md 2>/dev/null)

.PHONY: venv book book-fast test chromium sync pin clean

venv: $(STAMP)

# torch is installed first and pinned, so nothing else can pull in another torch build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH_PIP_ARGS) torch==2.13.0
	$(PY) -m pip install -e ".[book,test]"
	touch $(STAMP)

book: venv
	$(PY) tools/build_book.py

book-fast: venv
	$(PY) tools/build_book.py --fast

test: venv chromium
	$(PY) -m pytest -q

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "chromium is missing (the tests draw every chart in it): run 'sudo make chromium' or 'sudo apt-get install -y chromium'" >&2; \
	    exit 1; \
	  fi; \
	  apt-get update && apt-get install -y chromium; \
	}

sync: venv
	@if [ -z "$(NOTEBOOKS)" ]; then echo "no chapter notebooks (book/NN_name.md with a jupytext header)"; \
	else echo "jupytext --update --to ipynb $(NOTEBOOKS)"; $(VENV)/bin/jupytext --update --to ipynb $(NOTEBOOKS); fi

# Colab installs irn from a commit: after committing a change to src/ or pyproject.toml, point the
# chapters' setup cells at it and commit book/ (the tests fail until then).
pin: venv
	$(PY) tools/build_book.py --pin

clean:
	rm -rf _build .pytest_cache
