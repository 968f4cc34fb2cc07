# Account Sync: build, test and deploy.
SHELL           := /bin/bash
.SHELLFLAGS     := -o pipefail -c
GO              ?= go
LOGS            := build/logs
PLUGIN_ID       := $(shell $(GO) run ./build/manifest id)
PLUGIN_VERSION  := $(shell $(GO) run ./build/manifest version)
PLATFORMS       ?= linux-amd64 linux-arm64 darwin-amd64 darwin-arm64 windows-amd64
BUNDLE          := dist/$(PLUGIN_ID)-$(PLUGIN_VERSION).tar.gz
GOLANGCI_LINT_VERSION := v2.6.2
GOBIN_DIR       := $(CURDIR)/build/bin
LDFLAGS         := -s -w -X main.buildVersion=$(PLUGIN_VERSION)

.PHONY: all dist server deploy test unit e2e demo bench check-style clean

all: check-style test dist

## dist: build the installable bundle dist/<id>-<version>.tar.gz (PLATFORMS=linux-amd64 for one platform)
dist: server
	rm -rf dist/$(PLUGIN_ID) $(BUNDLE)
	mkdir -p dist/$(PLUGIN_ID)/server/dist
	cp plugin.json dist/$(PLUGIN_ID)/
	cp -r assets dist/$(PLUGIN_ID)/
	cp server/dist/plugin-* dist/$(PLUGIN_ID)/server/dist/
	cd dist && tar -czf $(PLUGIN_ID)-$(PLUGIN_VERSION).tar.gz $(PLUGIN_ID)
	rm -rf dist/$(PLUGIN_ID)
	@echo "bundle: $(BUNDLE)"

## server: cross-compile the plugin executables (static, no debug symbols)
server:
	rm -rf server/dist
	mkdir -p server/dist
	@for p in $(PLATFORMS); do \
		os=$${p%-*}; arch=$${p#*-}; exe=$$($(GO) run ./build/manifest executable $$p) || exit 1; \
		echo "building $$exe"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$exe ./server || exit 1; \
	done

## deploy: upload and enable the bundle on MM_SERVICESETTINGS_SITEURL with MM_ADMIN_TOKEN
deploy: dist
	$(GO) run ./build/deploy $(PLUGIN_ID) $(BUNDLE)

## test: every test: unit tests, then the end-to-end suite on a real Mattermost server; one line per test and "N passed, N failed"
test:
	@mkdir -p $(LOGS)
	@status=0; \
	$(GO) test -race -count=1 -v ./... > $(LOGS)/unit.log 2>&1 || status=1; \
	(cd e2e && $(GO) test -p 1 -count=1 -timeout 75m -v ./...) 2>&1 | tee $(LOGS)/e2e.log || status=1; \
	$(GO) run ./build/summary $(LOGS)/unit.log $(LOGS)/e2e.log || status=1; \
	if [ $$status -ne 0 ]; then echo "tests failed: see $(LOGS)/unit.log, $(LOGS)/e2e.log and e2e/logs/"; fi; \
	exit $$status

## unit: the plugin's own tests (race detector on)
unit:
	$(GO) test -race -count=1 ./...

## e2e: the end-to-end suite only (builds a real Mattermost server on first run)
e2e:
	@mkdir -p $(LOGS)
	(cd e2e && $(GO) test -p 1 -count=1 -timeout 75m -v ./...) 2>&1 | tee $(LOGS)/e2e.log
	@$(GO) run ./build/summary $(LOGS)/e2e.log

## demo: start Mattermost + PostgreSQL + the Zulip emulator with the plugin, show one change, run until Ctrl-C
demo:
	cd e2e && $(GO) build -o $(GOBIN_DIR)/demo ./cmd/demo
	$(GOBIN_DIR)/demo || [ $$? -eq 130 ] # 130: stopped with Ctrl-C

## bench: go micro-benchmarks, then the plugin against the server's own path on the test bed (not part of test); results in build/bench/
bench: dist
	@mkdir -p build/bench
	cp $(BUNDLE) build/bench/bundle.tar.gz
	$(GO) test -run '^$$' -bench . -benchmem ./... | tee build/bench/micro.txt
	cd e2e && $(GO) run ./cmd/bench -bundle ../build/bench/bundle.tar.gz -out ../build/bench

## check-style: gofmt, go vet and golangci-lint (installed at a pinned version)
check-style: $(GOBIN_DIR)/golangci-lint
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "run gofmt -w on the files above"; exit 1)
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...
	$(GOBIN_DIR)/golangci-lint run ./...
	cd e2e && $(GOBIN_DIR)/golangci-lint run ./...

$(GOBIN_DIR)/golangci-lint:
	GOBIN=$(GOBIN_DIR) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

clean:
	rm -rf dist server/dist build/bin $(LOGS)
