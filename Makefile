# Two commands for a new user: `make drill` and `make test`. Everything else is plumbing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
COLLECTIONS := $(CURDIR)/collections
COLLECTION_DIR := $(COLLECTIONS)/ansible_collections/confidential/recovery
LAB_DIR ?= $(CURDIR)/drill-workspace
NODES ?= 5
BREAK ?= all
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: drill test unit integration venv collection proto lab-down benchmark clean

venv: $(DEPS_STAMP)

$(DEPS_STAMP): requirements.txt requirements-dev.txt lab/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e lab
	$(BIN)/etcd --version | head -n 1
	touch $@

# Install the collection the way users get it: build the artifact, install it.
collection: $(DEPS_STAMP)
	rm -rf build && mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build . >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) build/confidential-recovery-*.tar.gz >/dev/null
	@echo "collection installed in $(COLLECTION_DIR)"

proto: $(DEPS_STAMP)
	PYTHON=$(PY) tools/regen-proto.sh

drill: collection
	$(BIN)/conflab down --dir $(LAB_DIR) >/dev/null 2>&1 || true
	$(BIN)/conflab up --dir $(LAB_DIR) --nodes $(NODES)
	$(BIN)/conflab break --dir $(LAB_DIR) --reboot $(BREAK) --restart-coordinator
	$(BIN)/ansible-playbook -i $(LAB_DIR)/inventory.constellation.yml playbooks/recover.yml \
	  -e @$(LAB_DIR)/recover-vars.yml -e recovery_report_file=$(LAB_DIR)/recovery-report.json
	$(BIN)/conflab status --dir $(LAB_DIR)

test: collection
	$(BIN)/pytest tests

unit: collection
	$(BIN)/pytest tests/unit

integration: collection
	$(BIN)/pytest tests/integration

benchmark: collection
	$(PY) benchmarks/time_to_quorum.py

lab-down:
	$(BIN)/conflab down --dir $(LAB_DIR)

clean: lab-down
	rm -rf build $(COLLECTIONS) $(VENV)
