# The two commands of the README:
#   make run    install what is missing, build the UI and the app, open it
#   make test   install what is missing (test tools too), build, run every test
# and, for releases (README, "Release builds and packages"):
#   make bundle        the release build and its Linux packages (.deb, .rpm)
#   make install-test  installs the .deb, drives the installed app, purges it (CI runs it)
# and, for speed and memory (README, "Benchmarks"; slow, not part of make test):
#   make bench         every benchmark, side by side with its peers; writes BENCHMARKS.md
SHELL := bash
.DEFAULT_GOAL := run

UI_INPUTS := $(shell find ui/src icons/icon.svg ui/index.html ui/vite.config.ts \
               ui/svelte.config.js ui/tsconfig.json ui/package-lock.json -type f 2>/dev/null)

.PHONY: run test bundle install-test bench setup-run setup-test setup-bundle ui

run: setup-run ui
	cargo run --quiet

test: setup-test ui
	src-tauri/scripts/test.sh

# The tauri CLI (pinned, from crates.io) builds the release binary and bundles it; the
# release profile is the root Cargo.toml's. Packages land in target/release/bundle/.
# Cargo's target folder (CARGO_TARGET_DIR when set) holds the build and its bundles.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

bundle: setup-bundle ui
	rm -rf $(TARGET_DIR)/release/bundle/deb $(TARGET_DIR)/release/bundle/rpm
	cargo tauri build --bundles deb,rpm
	@ls -l $(TARGET_DIR)/release/bundle/deb/*.deb $(TARGET_DIR)/release/bundle/rpm/*.rpm

install-test: setup-test bundle
	src-tauri/scripts/install-test.sh $(TARGET_DIR)/release/bundle

bench: setup-test ui
	src-tauri/scripts/bench.sh

setup-run:
	@src-tauri/scripts/setup.sh run

setup-test:
	@src-tauri/scripts/setup.sh test

setup-bundle:
	@src-tauri/scripts/setup.sh bundle

ui: ui/dist/index.html

# Rebuilt only when a UI input changed, so cargo does not re-embed an identical dist.
ui/dist/index.html: $(UI_INPUTS)
	cd ui && npm run --silent build
