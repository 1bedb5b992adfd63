# Every target creates .venv and installs what it needs when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORPUS ?= ../shared/corpus/dev

.PHONY: install run test lint quality quality-real train bench rules clean extension

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

rules: $(STAMP)
	$(BIN)/redflags rules build

# Serves http://127.0.0.1:8000 (the page and /api/v1, /docs); SQLite in ./data unless
# REDFLAGS_DATABASE_URL says otherwise.
run: rules
	$(BIN)/redflags serve

test: rules
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

quality: rules
	$(BIN)/python -m app.training.quality_dev $(CORPUS)

# The page-type model and score thresholds, from corpus/real (its text cache: corpus/README.md).
train: rules
	$(BIN)/redflags train

# Rules, model and engine on the real corpus, 5-fold cross-validation grouped by host.
quality-real: rules
	$(BIN)/python -m app.training.quality_real

# Every benchmark, then issue 13's goals table; all figures saved in bench-results/ (git-ignored).
bench: rules
	$(BIN)/python bench/goals.py $(CORPUS)

# The browser extension: lint it with Mozilla's web-ext and pack it as a zip for the stores.
EXT_TOOLS := extension/tools/node_modules/.bin
$(EXT_TOOLS)/web-ext: extension/tools/package.json extension/tools/package-lock.json
	cd extension/tools && npm ci --no-audit --no-fund
	touch $@

extension: $(EXT_TOOLS)/web-ext
	$(EXT_TOOLS)/web-ext lint --source-dir extension --ignore-files tools "tools/**" README.md
	$(EXT_TOOLS)/web-ext build --source-dir extension --ignore-files tools "tools/**" README.md \
		--artifacts-dir dist --overwrite-dest

clean:
	rm -rf $(VENV) models/pipeline
