# Two commands on a fresh machine:  `make demo` (one real offline call) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= difficult_card_replacement

# The web UI test (tests/loadtest/test_webui_browser.py) drives Debian's chromium through its chromium-driver.
BROWSER_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo test test-fast lint browser bench bench-quick bench-voices clean

# constraints.txt holds every package's resolved version (dependencies of dependencies too).
$(STAMP): requirements.txt requirements-dev.txt requirements-judge.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-judge.txt -c constraints.txt
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo.py --scenario $(SCENARIO)

# Installs only what is missing (apt-get update once, then install); nothing to do when both are there.
browser:
	@missing=""; \
	for package in $(BROWSER_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "no apt-get: install$$missing yourself, or the web UI browser test skips (fails under CI=true)"; exit 0; \
	fi; \
	echo "installing$$missing for the web UI browser test"; \
	$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y$$missing

# The whole suite (what CI runs): the linter, then every test, real-time calls and the browser included.
test: $(STAMP) browser lint
	$(BIN)/python -m tests.shards -q

# The inner loop: no real-time calls and no speech recognizer.
test-fast: $(STAMP)
	$(BIN)/python -m tests.shards -q -m "not slow and not whisper"

lint: $(STAMP)
	$(BIN)/ruff check .

# Each script prints its figures last as one JSON line; bench/RESULTS.md records them with the machine.
bench: $(STAMP)
	$(BIN)/python bench/verdicts.py
	$(BIN)/python bench/ear_accuracy.py
	$(BIN)/python bench/voices.py
	$(BIN)/python bench/capacity.py
	$(BIN)/python bench/fidelity.py
	$(BIN)/python bench/scaling.py
	$(BIN)/python bench/locust_capacity.py
	$(BIN)/python bench/verdict_truth.py --line clean,mulaw,noise
	$(BIN)/python bench/dialogue.py

bench-quick: $(STAMP)
	$(BIN)/python bench/verdicts.py --quick
	$(BIN)/python bench/voices.py --quick
	$(BIN)/python bench/ear_accuracy.py --quick
	$(BIN)/python bench/verdict_truth.py --quick
	$(BIN)/python bench/capacity.py --quick
	$(BIN)/python bench/fidelity.py --quick
	$(BIN)/python bench/scaling.py --quick
	$(BIN)/python bench/locust_capacity.py --quick
	$(BIN)/python bench/dialogue.py --quick

# The voice engines alone: how well a recognizer hears each, and what each costs (bench/RESULTS.md, Voices).
bench-voices: $(STAMP)
	$(BIN)/python bench/voices.py

clean:
	rm -rf $(VENV) results logs
