# grokgpt. The README's two commands: `make report` (analyse the committed runs, write the report) and
# `make test`. Both create .venv and install the pinned dependencies first when needed.
#
#   make report                                   run stale notebooks, then reports/report.html and .pdf
#   make report PARAMS_04_grokking="-p seeds [0]" other parameters: the notebook writes under scratch/ instead
#   make runs                                     compute every run of the registry missing from data/runs/
#   make runs FORCE=1 | JOBS=4 | SCHEDULER=tcp://host:8786    all of them | 4 workers | on a Dask cluster
#   make verify [N=3]                             retrain N random committed runs, compare their metrics exactly
#   make -j2 report                               notebooks side by side, the cores divided between them
#
# Only notebooks whose source, library or parameters changed are re-run; `make report` trains nothing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
EXECUTED := $(patsubst notebooks/%,reports/%,$(NOTEBOOKS))
LIB := $(wildcard lib/grokgpt/*.py)
RUNS := $(wildcard data/runs/*/metrics.csv)  # a run that lands makes the reports stale
N ?= 3
# Each recipe's torch threads: the cores divided among make's parallel jobs (`make -jN`), so -j never
# oversubscribes (two 2-thread jobs on 2 cores run at half the speed of one). Runs of a sweep use one thread
# always (lib/grokgpt/devices.py holds the policy).
THREADS = $$(j=$$(echo " $$MAKEFLAGS" | sed -n 's/.* -j *\([0-9][0-9]*\).*/\1/p'); t=$$(( $$(nproc) / $${j:-1} )); echo $$(( t > 0 ? t : 1 )))

.PHONY: setup report readme runs verify test lint lab look clean FORCE
.DELETE_ON_ERROR:
.PRECIOUS: reports/.params/%

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# outputs that JupyterLab autosaves into notebooks/ never reach a commit (.gitattributes names the filter)
	-git rev-parse --git-dir >/dev/null 2>&1 && git config filter.nbstripout.clean "'$(abspath $(PY))' -m nbstripout --keep-id" \
		&& git config filter.nbstripout.smudge cat && git config diff.ipynb.textconv "'$(abspath $(PY))' -m nbstripout -t"
	touch $@

report: reports/report.html reports/report.pdf readme

# the README's results table: the claims of the executed notebooks (left alone when they ran with parameters)
readme: $(EXECUTED) | $(INSTALLED)
	$(PY) -m grokgpt.pipeline readme README.md $(EXECUTED)

# reports/.params/<notebook> records the parameters a notebook last ran with; it is rewritten only when they
# change, so new PARAMS re-run exactly the notebooks they reach.
reports/.params/%: FORCE
	@mkdir -p $(@D)
	@echo '$(subst ','\'',$(strip $(PARAMS) $(PARAMS_$*)))' > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

reports/%.ipynb: notebooks/%.ipynb $(LIB) $(RUNS) reports/.params/% | $(INSTALLED)
	OMP_NUM_THREADS=$(THREADS) $(PY) -m grokgpt.pipeline run $< $@ $(PARAMS) $(PARAMS_$*)

reports/report.html: $(EXECUTED)
	$(PY) -m grokgpt.pipeline html $@ $^

reports/report.pdf: reports/report.html
	$(PY) -m grokgpt.pipeline pdf $< $@

runs: $(INSTALLED)
	$(PY) -m grokgpt.sweeps run $(if $(FORCE),--force) $(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

verify: $(INSTALLED)
	$(PY) -m grokgpt.sweeps verify --n $(N) $(if $(SEED),--seed $(SEED))

test: $(INSTALLED)
	$(PY) -m pytest

lint: $(INSTALLED)
	$(PY) -m ruff check lib tests benchmarks tools notebooks
	$(PY) -m ruff format --check lib tests benchmarks tools
	$(PY) -m nbstripout --keep-id --verify notebooks/*.ipynb

# the report and JupyterLab as a reader sees them, as PNGs in scratch/look/ (needs Debian's chromium, poppler-utils)
look: $(INSTALLED)
	$(PY) -m pip install --quiet -e '.[look]'
	$(PY) tools/look.py report
	$(PY) tools/look.py lab

lab: $(INSTALLED)
	GROKGPT_ROOT=$(CURDIR) $(PY) -m jupyter lab notebooks/

clean:
	rm -rf reports/.params reports/.failed-* reports/.running-* scratch .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
