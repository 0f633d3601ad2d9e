# relaykit: every target bootstraps its own virtualenv from nothing (python3 + pip only).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: test demo lint typecheck pytest bench fuzz emulator clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,conformance,fast]'
	@touch $(STAMP)

## make test: ruff, ruff format --check, mypy --strict, the full pytest suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

## make demo: the seed IVR against the embedded local emulator, with a trace of each call.
demo: $(STAMP)
	$(BIN)/python -m relaykit.demo

## make emulator: a local RELAY emulator on ws://127.0.0.1:8765 (project "demo", token "demo").
emulator: $(STAMP)
	$(BIN)/relaykit emulator --project demo --token demo

## make fuzz: long hypothesis-driven fuzz runs of the core (not part of CI).
fuzz: $(STAMP)
	$(BIN)/python -m fuzz --minutes 5

## make bench: relaykit vs the official SDK, same emulator, same run (installs bench-only deps).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet signalwire-sdk trustme matplotlib uvloop
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info
