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
# Extra ansible-playbook arguments for the drill, e.g. ARGS='-e constellation_recover_stop_at=all'; KEEP=1 leaves the lab up.
ARGS ?=
KEEP ?= 0
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: drill test unit integration venv collection proto lab-down benchmark clean changelog-lint release lint docs-lint sanity-bootstrap

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

# The artifact for Galaxy: refuses while galaxy.yml still has TODO fields (no public home yet).
release: collection
	@if grep -n 'TODO' galaxy.yml; then echo "galaxy.yml has TODO fields: set the real URLs before a release" >&2; exit 1; fi
	@ls build/confidential-recovery-*.tar.gz

# ansible-test's sanity venvs download a pip bootstrap script; this machine reaches only the registries.
# Put the offline stand-in where ansible-test looks for its cache (pip version of ansible-core 2.19: 24.2).
ANSIBLE_TEST_PIP ?= 24_2
sanity-bootstrap:
	mkdir -p $(HOME)/.ansible/test/cache
	cp tools/ansible-test-get-pip.py $(HOME)/.ansible/test/cache/get_pip_$(ANSIBLE_TEST_PIP).py

proto: $(DEPS_STAMP)
	PYTHON=$(PY) tools/regen-proto.sh

drill: collection
	$(BIN)/conflab down --dir $(LAB_DIR) >/dev/null 2>&1 || true
	$(BIN)/conflab up --dir $(LAB_DIR) --nodes $(NODES)
	$(BIN)/conflab break --dir $(LAB_DIR) --reboot $(BREAK) --restart-coordinator
	status=0; $(BIN)/ansible-playbook -i $(LAB_DIR)/inventory.constellation.yml playbooks/recover.yml \
	  -e @$(LAB_DIR)/recover-vars.yml -e recovery_report_file=$(LAB_DIR)/recovery-report.json $(ARGS) || status=$$?; \
	$(BIN)/conflab status --dir $(LAB_DIR); \
	if [ "$(KEEP)" = 1 ]; then echo "The lab keeps running (KEEP=1): make lab-down stops it."; \
	else $(BIN)/conflab down --dir $(LAB_DIR); echo "Lab stopped. make drill KEEP=1 keeps it running."; fi; \
	exit $$status

test: collection changelog-lint lint docs-lint
	$(BIN)/pytest tests

# ansible-doc renders every plugin and role; antsibull-docs lint-collection-docs passes.
docs-lint: collection
	tools/check-docs.sh $(COLLECTION_DIR)

# ansible-lint at the production profile (.ansible-lint); 0 violations.
lint: collection
	$(BIN)/ansible-lint -q --nocolor

# Fragments are valid, and the last commit that changed the collection brought one.
changelog-lint: $(DEPS_STAMP)
	$(BIN)/antsibull-changelog lint
	tools/check-changelog-fragment.sh

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
