# The README's two commands. Each creates the virtual environment if it is absent and installs what it needs.
#   make test   unit/oracle tests (tests/) and every notebook rerun and compared by nbval (notebooks/)
#   make book   the HTML book under _build/html, warnings as errors
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.rbmbook-installed
# nbval runs notebooks two at a time (each trains on one thread), using both cores of the CI machine.
NB_WORKERS ?= 2

.PHONY: test unit notebooks book clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

test: unit notebooks

unit: $(STAMP)
	$(PY) -m pytest tests -q

notebooks: $(STAMP)
	$(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-n $(NB_WORKERS) --dist loadscope notebooks/ book/status.ipynb

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

clean:
	rm -rf _build
