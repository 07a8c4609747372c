# The README's two commands: `make book` and `make test`. Both create .venv on first use and
# reuse it afterwards (the install is redone only when pyproject.toml changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.survlib-installed
PROFILE ?= book
JB_FLAGS ?= -W -n --keep-going
SMOKE  := _build/smoke
# the team's verified copies of the authors' real TCGA tables (imported into the data cache by
# hash when the folder exists; without it the real-data sections say what is missing)
SHARED_DATA ?= ../shared/data

.PHONY: install book notebooks html test smoke-book test-fast clean help data-import

help:
	@echo "make book   - install, run every notebook (profile $(PROFILE)), build _build/html"
	@echo "make test   - install, run unit tests and every notebook with the smoke profile,"
	@echo "              then render those smoke outputs as a book (warnings are errors)"
	@echo "make clean  - remove executed notebooks and the built book"

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install "torch==2.13.0"
	$(BIN)/python -m pip install -e ".[book,dev,text,cluster,bench]"
	touch $(STAMP)

install: $(STAMP)

data-import: install
	@if [ -d "$(SHARED_DATA)" ]; then $(BIN)/survlib fetch --import "$(SHARED_DATA)"; \
	else echo "no $(SHARED_DATA): the real-data sections will say which files are missing"; fi

notebooks: install data-import
	$(BIN)/survlib run --all --jobs $(or $(JOBS),$(shell nproc)) --profile $(PROFILE) --quiet

html: install
	$(BIN)/survlib report
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Book: $(CURDIR)/_build/html/index.html"

book: notebooks html

# `make test` renders the smoke-profile outputs of the notebook tests into a book of their own
# ($(SMOKE)/_build/html, with warnings as errors), so a chapter or cross-reference that breaks
# the build fails CI; book/executed (the book profile's outputs) is left alone.
# Then a headless browser opens every page of that site with the network blocked
# (tests/browser/test_site.py; screenshots in $(SMOKE)/_build/screenshots).
test: install browser-deps data-import
	rm -rf $(SMOKE)
	mkdir -p $(SMOKE)/book/executed
	SURVLIB_EXECUTED_DIR=$(CURDIR)/$(SMOKE)/book/executed $(BIN)/python -m pytest -q
	$(MAKE) smoke-book
	SURVLIB_SITE_DIR=$(CURDIR)/$(SMOKE)/_build/html SURVLIB_SCREENSHOTS=$(CURDIR)/$(SMOKE)/_build/screenshots \
		$(BIN)/python -m pytest tests/browser -q

smoke-book: install
	for f in _config.yml _toc.yml survlib notebooks; do ln -sfn $(CURDIR)/$$f $(SMOKE)/$$f; done
	for f in book/*; do [ "$$f" = book/executed ] || ln -sfn $(CURDIR)/$$f $(SMOKE)/$$f; done
	SURVLIB_EXECUTED_DIR=$(CURDIR)/$(SMOKE)/book/executed $(BIN)/survlib report
	$(BIN)/jupyter-book build $(SMOKE) $(JB_FLAGS)
	@echo "Smoke book: $(CURDIR)/$(SMOKE)/_build/html/index.html"

test-fast: install
	$(BIN)/python -m pytest -q -m "not notebook"

clean:
	rm -rf _build book/executed

# Headless Chromium for the browser test of the built site (tests/browser/test_site.py, run with
# SURVLIB_SITE_DIR=_build/html). Debian's package: playwright's own browser download needs network.
.PHONY: browser-deps
browser-deps:
	test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }
