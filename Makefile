# Two commands on a fresh machine:  `make demo` (one real offline call) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= difficult_card_replacement

.PHONY: setup demo test bench bench-quick clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo.py --scenario $(SCENARIO)

test: $(STAMP)
	$(BIN)/python -m tests.shards -q

# Each script prints its figures last as one JSON line; bench/RESULTS.md records them with the machine.
bench: $(STAMP)
	$(BIN)/python bench/ear_accuracy.py
	$(BIN)/python bench/capacity.py
	$(BIN)/python bench/fidelity.py
	$(BIN)/python bench/scaling.py

bench-quick: $(STAMP)
	$(BIN)/python bench/capacity.py --quick
	$(BIN)/python bench/fidelity.py --quick
	$(BIN)/python bench/scaling.py --quick

clean:
	rm -rf $(VENV) results logs
