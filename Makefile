# grokgpt: `make report` runs the five notebooks and builds the report; `make test` runs the tests.
# Both create .venv and install the pinned dependencies first when needed.
#
#   make report                                   run stale notebooks, then reports/report.html and .pdf
#   make report PARAMS="-p device cpu"            papermill parameters for every notebook
#   make report PARAMS_04_grokking="-p max_steps 5000"   ... or for one notebook
#   make -j2 report                               independent notebooks side by side
#
# Only notebooks whose source, library or parameters changed are re-run; runs already in data/runs/ are reused.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
EXECUTED := $(patsubst notebooks/%,reports/%,$(NOTEBOOKS))
LIB := $(wildcard lib/grokgpt/*.py)

.PHONY: setup report test lint lab clean FORCE
.DELETE_ON_ERROR:
.PRECIOUS: reports/.params/%

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

report: reports/report.html reports/report.pdf

# reports/.params/<notebook> records the parameters a notebook last ran with; it is rewritten only when they
# change, so new PARAMS re-run exactly the notebooks they reach.
reports/.params/%: FORCE
	@mkdir -p $(@D)
	@echo '$(subst ','\'',$(strip $(PARAMS) $(PARAMS_$*)))' > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

reports/%.ipynb: notebooks/%.ipynb $(LIB) reports/.params/% | $(INSTALLED)
	$(PY) -m grokgpt.pipeline run $< $@ $(PARAMS) $(PARAMS_$*)

reports/report.html: $(EXECUTED)
	$(PY) -m grokgpt.pipeline html $@ $^

reports/report.pdf: reports/report.html
	$(PY) -m grokgpt.pipeline pdf $< $@

test: $(INSTALLED)
	$(PY) -m pytest

lint: $(INSTALLED)
	$(PY) -m ruff check lib tests benchmarks notebooks
	$(PY) -m ruff format --check lib tests benchmarks
	$(PY) -m nbstripout --keep-id --verify notebooks/*.ipynb

lab: $(INSTALLED)
	GROKGPT_ROOT=$(CURDIR) $(PY) -m jupyter lab notebooks/

clean:
	rm -rf reports/.params reports/.failed-* reports/.running-* .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
