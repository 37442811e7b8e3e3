# The README's two commands. Each creates the virtual environment if it is absent and installs what it needs.
#   make test   unit/oracle tests (tests/) and every notebook rerun and compared by nbval (notebooks/)
#   make book   the HTML book under _build/html, warnings as errors
#   make record NB=notebooks/X.ipynb   re-execute a notebook in place and record its results in book/results
#                                     (NB defaults to every chapter, then the status and long-runs pages)
#   make long NB=notebooks/X.ipynb     a long run (PROFILE=long or paper): results to book/results, resumable
#   make mutations                     the mutation check (tests/mutations): fails if any deliberate bug survives
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.rbmbook-installed
# nbval runs notebooks two at a time (each trains on one thread), using both cores of the CI machine.
NB_WORKERS ?= 2

.PHONY: test unit notebooks book record long mutations clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

test: unit notebooks

unit: $(STAMP)
	$(PY) -m pytest tests -q

# Every mutation of tests/mutations (both sets), two at a time, each in its own copy of the repository; the test
# files named after the mutated module first, the rest of the unit suite only if they pass. Exit 1 if one survives.
MUTATION_WORKERS ?= 2
mutations: $(STAMP)
	$(PY) tests/mutations/run.py --workers $(MUTATION_WORKERS)

notebooks: $(STAMP)
	$(PY) -m pytest -q --color=no -o verbosity_assertions=1 --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-n $(NB_WORKERS) --dist loadscope notebooks/ book/status.ipynb book/long_runs.ipynb

# A recording run: the notebook's stored outputs and the book's results file are written together, one thread;
# a second pass keeps only the final state of each progress bar (carriage-return refreshes collapsed).
NB ?= $(wildcard notebooks/*.ipynb) book/status.ipynb book/long_runs.ipynb
record: $(STAMP)
	for nb in $(NB); do \
		RBMBOOK_RESULTS=$(CURDIR)/book/results OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
		$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=-1 $$nb && \
		$(VENV)/bin/jupyter nbconvert --to notebook --inplace --coalesce-streams $$nb || exit 1; \
	done

# A long (or paper) run: the notebook executed at that profile, unpinned, two threads, into _build/long/ (the stored
# ci outputs stay as they are); its results file goes to book/results. Grid cells are cached in the checkout
# (GRID_CACHE): a killed run resumes, and so does an unfinished run whose cells were committed, on another machine.
PROFILE ?= long
GRID_CACHE ?= $(CURDIR)/book/results/cells
long: $(STAMP)
	for nb in $(NB); do \
		RBMBOOK_PROFILE=$(PROFILE) RBMBOOK_PIN_CPU=0 RBMBOOK_RESULTS=$(CURDIR)/book/results \
		RBMBOOK_GRID_CACHE=$(GRID_CACHE) OMP_NUM_THREADS=2 \
		MKL_NUM_THREADS=2 $(VENV)/bin/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=-1 \
		--output-dir $(CURDIR)/_build/long $$nb || exit 1; \
	done

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

clean:
	rm -rf _build
