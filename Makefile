# The two commands of the README:
#   make run    install what is missing, build the UI and the app, open it
#   make test   install what is missing (test tools too), build, run every test
SHELL := bash
.DEFAULT_GOAL := run

UI_INPUTS := $(shell find ui/src icons/icon.svg ui/index.html ui/vite.config.ts \
               ui/svelte.config.js ui/tsconfig.json ui/package-lock.json -type f 2>/dev/null)

.PHONY: run test setup-run setup-test ui

run: setup-run ui
	cargo run --quiet

test: setup-test ui
	src-tauri/scripts/test.sh

setup-run:
	@src-tauri/scripts/setup.sh run

setup-test:
	@src-tauri/scripts/setup.sh test

ui: ui/dist/index.html

# Rebuilt only when a UI input changed, so cargo does not re-embed an identical dist.
ui/dist/index.html: $(UI_INPUTS)
	cd ui && npm run --silent build
