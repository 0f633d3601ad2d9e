# relaykit: every target bootstraps its own virtualenv from nothing (python3 + pip only).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
# What `make demo` needs and nothing more: relaykit and anyio.
DEMO_STAMP := $(VENV)/.installed-demo
# The full set: linters, type checker, test tools, the official SDK (conformance), orjson,
# and the docs site tools (mkdocs build --strict runs in the suite).
DEV_EXTRAS := .[dev,conformance,fast,docs]

.PHONY: test test-versions test-all demo lint typecheck pytest bench fuzz emulator pythons clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[anyio]'
	@touch $(DEMO_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '$(DEV_EXTRAS)'
	@touch $(STAMP) $(DEMO_STAMP)

## make test: ruff, ruff format --check, mypy --strict and the full pytest suite on the
## default interpreter, then the suite on the lowest and highest Python 3.10-3.13 found.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q
	@$(MAKE) --no-print-directory test-versions WHICH=ends

## make test-all: the suite on every Python 3.10-3.13 found, each in its own .venv-3.X.
test-all:
	@$(MAKE) --no-print-directory test-versions WHICH=all

# The interpreters: python3.X on PATH, else the newest 3.X.Y of pyenv's versions.
# Prints "3.X /path/to/python" for each one found that runs.
define FIND_PYTHONS
for minor in 10 11 12 13; do \
  found=""; \
  if command -v python3.$$minor >/dev/null 2>&1 && python3.$$minor -c '' 2>/dev/null; then \
    found="$$(command -v python3.$$minor)"; \
  elif command -v pyenv >/dev/null 2>&1; then \
    version="$$(pyenv versions --bare 2>/dev/null | grep -E "^3\.$$minor\.[0-9]+$$" \
      | sort -t. -k3,3n | tail -n 1)"; \
    if [ -n "$$version" ]; then \
      candidate="$$(pyenv prefix "$$version")/bin/python3.$$minor"; \
      if [ -x "$$candidate" ]; then found="$$candidate"; fi; \
    fi; \
  fi; \
  if [ -n "$$found" ]; then echo "3.$$minor $$found"; fi; \
done
endef

## make pythons: the interpreters test-all and test use.
pythons:
	@$(FIND_PYTHONS)

# WHICH=all: every interpreter found; WHICH=ends: the lowest and the highest, except
# the default interpreter's version (the suite has just run on it).
test-versions:
	@found="$$($(FIND_PYTHONS))"; \
	if [ -z "$$found" ]; then echo "test-versions: no python3.10-3.13 found"; exit 0; fi; \
	if [ "$(WHICH)" = ends ]; then \
	  default="$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"; \
	  found="$$(printf '%s\n' "$$found" | sed -n '1p;$$p' | uniq | grep -v "^$$default ")" || true; \
	fi; \
	printf '%s\n' "$$found" | while read -r version python; do \
	  [ -n "$$version" ] || continue; \
	  venv=".venv-$$version"; \
	  echo "== the suite on Python $$version ($$python, $$venv)"; \
	  if [ ! -f "$$venv/.installed-dev" ] || [ pyproject.toml -nt "$$venv/.installed-dev" ]; then \
	    { [ -x "$$venv/bin/python" ] || "$$python" -m venv "$$venv"; } && \
	    "$$venv/bin/python" -m pip install --quiet --upgrade pip && \
	    "$$venv/bin/python" -m pip install --quiet -e '$(DEV_EXTRAS)' && \
	    touch "$$venv/.installed-dev" || exit 1; \
	  fi; \
	  "$$venv/bin/python" -m pytest -q || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

## make demo: the seed IVR against the embedded local emulator, with a trace of each call
## (installs only relaykit and anyio; `make test` adds the rest to the same .venv).
demo: $(DEMO_STAMP)
	$(BIN)/python -m relaykit demo

## make emulator: a local RELAY emulator on ws://127.0.0.1:8765 (project "demo", token "demo").
emulator: $(DEMO_STAMP)
	$(BIN)/relaykit emulator --project demo --token demo

## make fuzz: long hypothesis-driven fuzz runs of the core (not part of CI).
fuzz: $(STAMP)
	$(BIN)/python -m fuzz --minutes 5

## make bench: relaykit vs the official SDK, same emulator, same run (installs bench-only deps).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet signalwire-sdk trustme matplotlib uvloop
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .venv-3.* build dist *.egg-info
