# backprop-anim: `make demo` renders the default lecture, `make test` runs the suite.
# Both sit on `make setup`, which is idempotent and quick once done: Debian packages
# only where missing, a .venv/ with the project installed editable with its extras.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# System packages: Cairo/Pango headers + pkg-config to build manimpango, espeak-ng as
# the fallback voice, chromium for the gallery page test.
APT_PACKAGES := libcairo2-dev libpango1.0-dev pkg-config gcc fonts-dejavu-core espeak-ng chromium
EXTRAS := voice,dask,digits,explore,slides,dev
# Only the tests need these: PyTorch 2.13.0 (CPU) as an oracle for the optimizers, a
# 192 MB wheel (about 700 MB installed) that pip takes from this machine's disk. `make
# demo` stays without it; `make test` (and so CI) installs it once, so the oracle test
# runs on a fresh machine instead of being skipped.
TEST_EXTRAS := torch-oracle
TEST_STAMP := $(VENV)/.installed-test
DEMO_CONFIG := configs/textbook-2-2-2.yaml

.PHONY: setup demo test lint format lectures bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS),$(TEST_EXTRAS)]"
	@touch $(TEST_STAMP)

demo: setup
	$(BIN)/backprop-anim render $(DEMO_CONFIG) -q l --set narration.level=brief

test: setup $(TEST_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Every lecture in configs/ at low quality (renders/<name>/): a step in detail, then the
# overview of the whole training. Lectures whose question is about the whole training
# show the overview only. The sweeps in configs/sweeps/ are run with `batch --compare`.
LECTURE_SCENES := title,forward,loss,backward,update,summary,overview
OVERVIEW_LECTURES := regression-output tanh-saturation one-layer-at-a-time optimizers

lectures: setup
	for c in configs/*.yaml; do \
	  case " $(OVERVIEW_LECTURES) " in \
	    *" $$(basename $$c .yaml) "*) scenes=title,overview ;; \
	    *) scenes=$(LECTURE_SCENES) ;; \
	  esac; \
	  $(BIN)/backprop-anim render $$c -q l --scenes $$scenes || exit 1; \
	done

bench: setup
	$(BIN)/python benchmarks/engine_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
