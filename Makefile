# Two commands for a new user: `make drill` and `make test`. Everything else is plumbing.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
COLLECTIONS := $(CURDIR)/collections
# The collection's source tree, in the layout ansible-test needs; everything else here is tooling around it.
SRC := ansible_collections/confidential/recovery
COLLECTION_DIR := $(COLLECTIONS)/ansible_collections/confidential/recovery
LAB_DIR ?= $(CURDIR)/drill-workspace
NODES ?= 5
# The drill's scenario (playbooks/drill.yml: lose-k-of-n, full-outage, coordinator-restart, both,
# reboot-mid-recovery; or rehearsal, below) and its RTO target in seconds; the reports go to $(LAB_DIR)/drills/.
SCENARIO ?= both
RTO_TARGET ?= 300
# AUTOMATIC=1: a full outage (every control-plane node and the Coordinator) under Event-Driven Ansible, with no step
# by hand: ansible-rulebook runs the collection's rulebook on the lab, the lab breaks, the drill times the recovery
# (conflab automatic-drill; the timeline goes to $(LAB_DIR)/drills/automatic-drill.json). WATCH_INTERVAL: the watch's.
AUTOMATIC ?= 0
WATCH_INTERVAL ?= 2
# Extra ansible-playbook arguments for the drill, e.g. ARGS='-e constellation_recover_stop_at=all'; KEEP=1 leaves the lab up.
ARGS ?=
KEEP ?= 0
# What the lab's recovery servers attest with: qemu-vtpm (a software vTPM, checked by the collection's real
# validator against the lab's constellation-conf.yaml), snp (the same vTPM vouched for by SEV-SNP reports from a
# lab AMD root: the azure-sev-snp validator, the lab root passed as an explicit trust anchor) or dummy (upstream's
# test variant, attestation: lab). ATTESTATION is the older name of LAB_ATTESTATION.
ATTESTATION ?= qemu-vtpm
LAB_ATTESTATION ?= $(ATTESTATION)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: java sanity-cores architecture fuzz chromium debian-packages test-quick quick-unit molecule ee-context integration-targets sanity lowest-deps drill test unit integration venv collection proto lab-down benchmark clean changelog-lint release lint docs-lint sanity-bootstrap

venv: $(DEPS_STAMP)

# uv installs the pinned requirements into the venv: the same resolution as pip, downloaded in parallel (about 10 s
# instead of 80 s on a fresh machine).
UV_PIN := uv==0.13.9
UV_INSTALL = $(1)/bin/python -m pip install --quiet --disable-pip-version-check '$(UV_PIN)' && \
  $(1)/bin/uv pip install --quiet --compile-bytecode --python $(1)/bin/python
$(DEPS_STAMP): $(SRC)/requirements.txt requirements-dev.txt lab/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(call UV_INSTALL,$(VENV)) -r requirements-dev.txt -e lab
	$(BIN)/etcd --version | head -n 1
	touch $@

# Install the collection the way users get it: build the artifact, install it.
collection: $(DEPS_STAMP)
	rm -rf build && mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build $(SRC) >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) build/confidential-recovery-*.tar.gz >/dev/null
	@echo "collection installed in $(COLLECTION_DIR)"

# The artifact for Galaxy: refuses while galaxy.yml still has TODO fields (no public home yet).
release: collection
	@if grep -n 'TODO' $(SRC)/galaxy.yml; then echo "galaxy.yml has TODO fields: set the real URLs before a release" >&2; exit 1; fi
	@ls build/confidential-recovery-*.tar.gz

# ansible-test's sanity venvs download a pip bootstrap script; this machine reaches only the registries.
# Put the offline stand-in where ansible-test looks for its cache (pip version of ansible-core 2.19: 24.2).
ANSIBLE_TEST_PIP ?= 24_2
sanity-bootstrap:
	mkdir -p $(HOME)/.ansible/test/cache
	cp tools/ansible-test-get-pip.py $(HOME)/.ansible/test/cache/get_pip_$(ANSIBLE_TEST_PIP).py

# ansible-test sanity in the collection's real layout, no ignore entries beyond tests/sanity/ignore-*.txt (each
# justified inline). shellcheck comes from Debian; without it ansible-test would skip that test, not pass it.
sanity: sanity-bootstrap $(DEPS_STAMP)
	tools/need-debian-package.sh shellcheck
	shellcheck tools/*.sh .ci/run
	cd $(SRC) && $(CURDIR)/$(BIN)/ansible-test sanity --venv --python 3.11 --color no

# ansible-test sanity on the other supported ansible-core releases, each in its own venv (2.20 needs Python 3.12 or
# newer: tools/sanity-cores.sh finds one on PATH or under pyenv, and reports the release as skipped without one).
SANITY_CORES ?= 2.18 2.20
sanity-cores: $(DEPS_STAMP)
	tools/sanity-cores.sh $(SANITY_CORES)

# The collection's gencode must run on the lowest protobuf that requirements.txt admits: generate it with the
# grpcio-tools of that protobuf generation, in a venv of its own.
PROTOC_VENV := .venv-protoc
COLLECTION_GRPCIO_TOOLS := grpcio-tools==1.62.3
proto: $(DEPS_STAMP)
	test -x $(PROTOC_VENV)/bin/python || $(PYTHON) -m venv $(PROTOC_VENV)
	$(PROTOC_VENV)/bin/pip install --quiet --disable-pip-version-check '$(COLLECTION_GRPCIO_TOOLS)'
	PYTHON=$(CURDIR)/$(PY) COLLECTION_PROTOC_PYTHON=$(CURDIR)/$(PROTOC_VENV)/bin/python tools/regen-proto.sh

# SCENARIO=rehearsal runs playbooks/rehearse.yml on the healthy lab instead: it attests every node and the Coordinator
# and checks the secrets, sending nothing. BREAK gives `conflab break` arguments to apply first, to see the rehearsal
# catch them: BREAK='--fault conflab-control-plane-0=wrong-measurement', BREAK='--workspace foreign-master-secret'
# or BREAK='--workspace foreign-seed-shares'.
BREAK ?=
# More `conflab up` arguments, e.g. LAB_ARGS='--coordinator-service internal': the Coordinator's Service has no
# load-balancer address, and the recovery reaches it through a port-forward to a forwarder pod it creates.
LAB_ARGS ?=
# The Coordinator scenarios need a lab with three Coordinator replicas.
COORDINATORS ?= $(if $(filter coordinator-one-of-three coordinator-all,$(SCENARIO)),3,1)
drill: collection $(if $(filter 1,$(AUTOMATIC)),java)
	$(BIN)/conflab down --dir $(LAB_DIR) >/dev/null 2>&1 || true
	$(BIN)/conflab up --dir $(LAB_DIR) --nodes $(NODES) --attestation $(LAB_ATTESTATION) --coordinators $(COORDINATORS) \
	  $(LAB_ARGS)
	status=0; if [ -n "$(BREAK)" ]; then $(BIN)/conflab break --dir $(LAB_DIR) --reboot none $(BREAK) || status=$$?; fi; \
	if [ $$status != 0 ]; then :; \
	elif [ "$(AUTOMATIC)" = 1 ]; then mkdir -p $(LAB_DIR)/drills; \
	  $(BIN)/conflab automatic-drill --dir $(LAB_DIR) --interval $(WATCH_INTERVAL) \
	  --output $(LAB_DIR)/drills/automatic-drill.json || status=$$?; \
	elif [ "$(SCENARIO)" = rehearsal ]; then mkdir -p $(LAB_DIR)/drills; \
	  $(BIN)/ansible-playbook -i $(LAB_DIR)/inventory.constellation.yml confidential.recovery.rehearse \
	  -e @$(LAB_DIR)/recover-vars.yml -e recovery_report_rehearsal_file=$(LAB_DIR)/drills/rehearsal-report.json \
	  $(ARGS) || status=$$?; \
	else $(BIN)/ansible-playbook -i $(LAB_DIR)/inventory.constellation.yml confidential.recovery.drill \
	  -e @$(LAB_DIR)/recover-vars.yml -e drill_lab_dir=$(LAB_DIR) -e drill_scenario=$(SCENARIO) \
	  -e drill_rto_target=$(RTO_TARGET) $(ARGS) || status=$$?; fi; \
	$(BIN)/conflab status --dir $(LAB_DIR); \
	if [ "$(KEEP)" = 1 ]; then echo "The lab keeps running (KEEP=1): make lab-down stops it."; \
	else $(BIN)/conflab down --dir $(LAB_DIR); echo "Lab stopped. make drill KEEP=1 keeps it running."; fi; \
	exit $$status

# Everything, in under half the serial time: pytest (system tests on PYTEST_WORKERS xdist workers, one test file
# per worker, one lab address prefix per file) beside the static checks, the lowest-dependency unit tests and the
# integration targets and molecule (tools/run-test-suite.sh; their logs in build/test-logs/).
PYTEST_WORKERS ?= 3
test: collection debian-packages
	PYTEST_WORKERS=$(PYTEST_WORKERS) MAKE="$(MAKE)" tools/run-test-suite.sh

# The edit loop: unit tests, lint and sanity, side by side.
test-quick: collection
	$(MAKE) --no-print-directory -o collection -j3 -O changelog-lint lint sanity quick-unit

quick-unit: $(DEPS_STAMP)
	$(BIN)/pytest -q -n 2 $(SRC)/tests/unit

# What make test needs from Debian, in one go: chromium (the drill report's browser test), shellcheck (sanity).
debian-packages:
	tools/need-debian-package.sh chromium
	tools/need-debian-package.sh shellcheck
	tools/need-debian-package.sh java openjdk-17-jre-headless

# ansible-rulebook's rule engine runs on Java 17.
java:
	tools/need-debian-package.sh java openjdk-17-jre-headless

# The drill report's browser test drives Debian's chromium through Playwright (Playwright's own browser download
# is out of reach here).
chromium:
	tools/need-debian-package.sh chromium

# ansible-doc renders every plugin and role; antsibull-docs lint-collection-docs passes.
docs-lint: collection
	tools/check-docs.sh $(COLLECTION_DIR)

# ansible-lint at the production profile (.ansible-lint), 0 violations; ruff's lint and format check (ruff.toml).
lint: collection
	cd $(SRC) && ANSIBLE_COLLECTIONS_PATH=$(CURDIR) $(CURDIR)/$(BIN)/ansible-lint -q --nocolor
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check .
	tools/check-repository.sh

# Fragments are valid, and the last commit that changed the collection brought one.
changelog-lint: $(DEPS_STAMP)
	cd $(SRC) && $(CURDIR)/$(BIN)/antsibull-changelog lint
	tools/check-changelog-fragment.sh

# The collection's unit tests on the lowest versions it declares: requirements.txt's lower bounds, the
# oldest ansible-core that meta/runtime.yml admits.
LOWEST_VENV := .venv-lowest
LOWEST_ANSIBLE := ansible-core==2.18.0
lowest-deps:
	test -x $(LOWEST_VENV)/bin/python || $(PYTHON) -m venv $(LOWEST_VENV)
	sed -E 's/>=([^,]+).*/==\1/' $(SRC)/requirements.txt > $(LOWEST_VENV)/lowest.txt
	$(call UV_INSTALL,$(LOWEST_VENV)) -r $(LOWEST_VENV)/lowest.txt '$(LOWEST_ANSIBLE)' \
	  $$(grep -E '^(pytest|pytest-timeout|moto\[server\]|hypothesis)==' requirements-dev.txt)
	$(LOWEST_VENV)/bin/python -c 'import google.protobuf, cryptography, ansible; print("lowest: protobuf", google.protobuf.__version__, "cryptography", cryptography.__version__, "ansible-core", ansible.__version__)'
	$(LOWEST_VENV)/bin/pytest -q $(SRC)/tests/unit

unit: collection
	$(BIN)/pytest $(SRC)/tests/unit tests/lab

integration: collection
	$(BIN)/pytest tests/system

# The fuzz suite's long profile: every reader of untrusted input, FUZZ_EXAMPLES (default 5000) random examples per
# target instead of make test's fixed 120. A failure prints the input and how to replay it.
FUZZ_EXAMPLES ?= 5000
fuzz: $(DEPS_STAMP)
	HYPOTHESIS_PROFILE=long FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q $(SRC)/tests/unit/fuzz --hypothesis-show-statistics

# ansible-test integration: one target per module (tests/integration/targets), run in place against a lab on
# 127.20.9.0/24 that this target starts and always stops. ansible-test passes no environment to the targets,
# so the lab's directory goes in through integration_config.yml (ansible-test's vars file; not tracked).
IT_LAB := $(CURDIR)/build/integration-lab
integration-targets: collection
	$(BIN)/conflab down --dir $(IT_LAB) >/dev/null 2>&1 || true
	$(BIN)/conflab up --dir $(IT_LAB) --nodes 3 --workers 1 --ip-prefix 127.20.9 --rejoin-interval 3 >/dev/null
	echo "setup_lab_dir: $(IT_LAB)" > $(SRC)/tests/integration/integration_config.yml
	status=0; (cd $(SRC) && $(CURDIR)/$(BIN)/ansible-test integration --local --python 3.11 --color no) \
	  || status=$$?; $(BIN)/conflab down --dir $(IT_LAB) >/dev/null; exit $$status

# One molecule scenario per role (extensions/molecule, the layout ansible-creator scaffolds), default driver on
# localhost against a lab on 127.20.8.0/24: prepare (start and break the lab), converge, idempotence, verify, cleanup.
# The reset first: molecule skips "prepare" for a scenario whose state says it was prepared by an earlier run.
molecule: collection
	cd $(SRC)/extensions && NO_COLOR=1 ANSIBLE_COLLECTIONS_PATH=$(CURDIR) $(CURDIR)/$(BIN)/molecule reset --all >/dev/null
	cd $(SRC)/extensions && NO_COLOR=1 ANSIBLE_COLLECTIONS_PATH=$(CURDIR) $(CURDIR)/$(BIN)/molecule test --all

# The execution environment's build context (ansible-builder, schema v3); no container engine needed.
# The introspection shows ansible-builder reads the collection's Python requirements from meta/execution-environment.yml.
ee-context: collection
	mkdir -p build/ee
	cp build/confidential-recovery-*.tar.gz build/ee/confidential-recovery.tar.gz
	$(BIN)/ansible-builder create --file execution-environment/execution-environment.yml --context build/ee-context --output-filename Containerfile >/dev/null
	test -s build/ee-context/Containerfile && test -s build/ee-context/_build/collections/confidential-recovery.tar.gz
	$(BIN)/ansible-builder introspect --sanitize $(COLLECTIONS) | tee build/ee/introspect.txt
	grep -q "^- 'cryptography.*confidential.recovery" build/ee/introspect.txt
	grep -q "^- 'protobuf.*confidential.recovery" build/ee/introspect.txt
	$(BIN)/ansible-builder create --file execution-environment/decision-environment.yml --context build/de-context --output-filename Containerfile >/dev/null
	grep -q "ansible-rulebook" build/de-context/_build/requirements.txt && grep -q "java-17" build/de-context/_build/bindep.txt
	@echo "EE build context in build/ee-context: podman build -f build/ee-context/Containerfile build/ee-context"
	@echo "DE build context in build/de-context: podman build -f build/de-context/Containerfile build/de-context"

# Time to quorum and to all-Ready per strategy and size (median of 3), the fleet and inventory-scale rows; prints the
# table and writes benchmarks/results/time_to_quorum.json and time_to_all_ready.png. About 40 minutes on 2 CPUs. Then
# the row without a human: outage to all Ready under Event-Driven Ansible (benchmarks/results/automatic_recovery.json).
# BENCHMARK_ARGS, e.g. '--sizes 3 --reps 1 --no-fleet --no-scale', for a quick look.
BENCHMARK_ARGS ?=
benchmark: collection
	$(PY) -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
	$(PY) benchmarks/time_to_quorum.py $(BENCHMARK_ARGS)
	$(MAKE) --no-print-directory java
	$(PY) benchmarks/automatic_recovery.py

lab-down:
	$(BIN)/conflab down --dir $(LAB_DIR)

# The picture of the collection's layers in docs/architecture.md, drawn from the code's imports with Debian's graphviz.
architecture: $(DEPS_STAMP)
	tools/need-debian-package.sh dot graphviz
	mkdir -p build
	$(PY) tools/architecture_graph.py > build/architecture.dot
	dot -Tsvg build/architecture.dot -o docs/images/architecture.svg
	@echo "docs/images/architecture.svg drawn from build/architecture.dot"

clean: lab-down
	rm -rf build $(COLLECTIONS) $(VENV) $(PROTOC_VENV) $(LOWEST_VENV) $(SRC)/tests/output
