# verifyfn: `make test` runs every test; `go run ./cmd/verifyfn` runs the service.
GO ?= go
PKGS := ./...
PROMTOOL := $(CURDIR)/.tools/prometheus/usr/bin/promtool

.PHONY: test lint unit redis-server curl chromium contract node-test bench run build build-lambda build-scf package-check coldstart fuzz fuzz-ci soak loadbench

## test: formatting, vet, every test under the race detector, the Pact contracts, the
## deployment package check, the official Node SDKs as clients (node-test); every fuzz target
## briefly (fuzz-ci)
test: lint unit fuzz-ci contract package-check node-test

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

unit: redis-server curl chromium $(PROMTOOL)
	VERIFYFN_PROMTOOL=$(PROMTOOL) $(GO) test -race -count=1 $(PKGS)

## curl: docs/testing.md's shell examples (run by internal/layout) call the control plane with curl;
## install Debian's when it is missing (sudo unless root)
curl:
	@command -v curl >/dev/null 2>&1 || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing curl"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl; }

## redis-server: the Redis store tests start their own redis-server (skipped without one, failed
## when CI is set); install Debian's when it is missing (sudo unless root)
redis-server:
	@command -v redis-server >/dev/null 2>&1 || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing redis-server"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }

## chromium: the dev inbox's browser tests (shared/control) drive Debian's headless Chromium with
## chromedp (skipped without it, failed when CI is set); install it when it is missing (sudo unless root)
chromium:
	@[ -x /usr/bin/chromium ] || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing chromium"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

## promtool: Prometheus's promtool for the alert rules' tests (deploy/observability_test.go), unpacked
## from Debian's prometheus package into .tools/ (apt-get download: nothing is installed or started)
$(PROMTOOL):
	@set -e; dir=$(CURDIR)/.tools/prometheus; rm -rf "$$dir"; mkdir -p "$$dir"; cd "$$dir"; \
	echo "unpacking promtool from Debian's prometheus package"; \
	if ! apt-get download prometheus >/dev/null 2>&1; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null; \
	  apt-get download prometheus >/dev/null 2>&1; \
	fi; \
	dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb usr/bin/prometheus

## contract: Pact consumer tests (rewrite contracts/pacts) and provider verification (needs cgo
## and libpact_ffi 0.4.x, fetched from npm into .tools/ when missing)
PACT_CORE := @pact-foundation/pact-core-linux-x64-glibc@18.1.0
PACT_LIB_DIR := $(CURDIR)/.tools/lib
PACT_ENV := CGO_ENABLED=1 CGO_LDFLAGS="-L$(PACT_LIB_DIR)" LD_LIBRARY_PATH=$(PACT_LIB_DIR)

contract: $(PACT_LIB_DIR)/libpact_ffi.so
	$(PACT_ENV) $(GO) vet -tags contract ./contracts/...
	$(PACT_ENV) $(GO) test -tags contract -count=1 ./contracts/...

$(PACT_LIB_DIR)/libpact_ffi.so:
	@rm -rf $(CURDIR)/.tools/npm && mkdir -p $(CURDIR)/.tools/npm $(PACT_LIB_DIR)
	cd $(CURDIR)/.tools/npm && npm pack --silent $(PACT_CORE) >/dev/null && tar xzf pact-foundation-pact-core-*.tgz
	cp $(CURDIR)/.tools/npm/package/prebuilds/linux-x64/libpact_ffi.so $@.tmp && mv $@.tmp $@

## node-test: the official Node SDKs (tencentcloud-sdk-nodejs, tencentcloud-sdk-nodejs-intl-en,
## @alicloud/cams20200606) call the real verifyfn binary, built into a temporary directory and
## started by test/node/verifyfn.mjs; `npm ci` from the committed lock file when node_modules is
## missing or older than package.json / package-lock.json
NODE_TEST_DIR := test/node
NODE_MODULES_STAMP := $(NODE_TEST_DIR)/node_modules/.package-lock.json

node-test: $(NODE_MODULES_STAMP)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "$(GO) build -o $$tmp/verifyfn ./cmd/verifyfn"; \
	$(GO) build -o "$$tmp/verifyfn" ./cmd/verifyfn; \
	echo "cd $(NODE_TEST_DIR) && node --test"; \
	cd $(NODE_TEST_DIR) && VERIFYFN_BIN="$$tmp/verifyfn" node --test *.test.mjs

$(NODE_MODULES_STAMP): $(NODE_TEST_DIR)/package.json $(NODE_TEST_DIR)/package-lock.json
	cd $(NODE_TEST_DIR) && npm ci --no-audit --no-fund
	@touch $@

## bench: the benchmarks named in the issues (signature, phone parsing, full request vs ceiling)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: every fuzz target (func Fuzz* in a _test.go file), one after another, $(FUZZTIME) each
## (scripts/fuzz.sh); fuzz-ci runs them for $(FUZZTIME_CI) each as part of make test. New inputs
## that fail are written to the package's testdata/fuzz/<Name>/: commit them with the fix. fuzz-ci
## uses one fuzzing worker, to leave a core to whatever else the machine runs.
FUZZTIME ?= 20s
FUZZTIME_CI ?= 8s
fuzz:
	@GO="$(GO)" FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh $(FUZZFLAGS)

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_CI) FUZZFLAGS=-parallel=1

## soak: the load harness at a fixed rate against the embedded store for SOAK_DURATION; checks
## that heap and store entries stay flat, p99 stays steady and no goroutine leaks (exit 1 if not)
SOAK_RATE ?= 2000
SOAK_DURATION ?= 10m
soak:
	$(GO) run ./cmd/verifyfn bench --rate $(SOAK_RATE) --duration $(SOAK_DURATION) --soak

## loadbench: the sweeps behind docs/benchmarks.md (embedded store with the ceiling, then Redis at
## LOADBENCH_REDIS), written to docs/benchmarks-*.csv and drawn as docs/benchmarks.png
LOADBENCH_RATES ?= 1000,2000,4000,6000,8000,10000,12000,14000,16000
LOADBENCH_REDIS ?= redis://127.0.0.1:6379/15
loadbench:
	$(GO) run ./cmd/verifyfn bench --mix SendVerifyCode --sweep $(LOADBENCH_RATES) --duration 10s --rounds 2 --conns 8 --quiet --csv docs/benchmarks-memory.csv
	$(GO) run ./cmd/verifyfn bench --mix SendVerifyCode --sweep $(LOADBENCH_RATES) --duration 10s --conns 8 --quiet --no-ceiling --store $(LOADBENCH_REDIS) --short-lifetimes --csv docs/benchmarks-redis.csv
	$(GO) run ./internal/benchchart -in docs/benchmarks-memory.csv,docs/benchmarks-redis.csv -out docs/benchmarks.png

run:
	$(GO) run ./cmd/verifyfn

## build: per function in functions/, dist/<fn>/<fn>-lambda-{arm64,amd64}.zip (bootstrap, for
## provided.al2023) and dist/<fn>/<fn>-scf-amd64.zip (main + scf_bootstrap, for the SCF Go1 runtime
## and SCF web functions), plus dist/tencent/<fn>/<fn> (one directory per function) for deploy/tencent. ACCOUNTS=file adds the file
## to every zip as accounts.yaml (then set VERIFYFN_ACCOUNTS=/var/task/accounts.yaml on Lambda,
## /var/user/accounts.yaml on SCF). PROVIDERS=webhook (or a list: PROVIDERS=tencent_sms,smtp) builds
## with those delivery providers only (and the outbox); default every provider. Names: $(PROVIDER_NAMES).
FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
DIST := dist
MKZIP := $(DIST)/.bin/mkzip
comma := ,
empty :=
space := $(empty) $(empty)
PROVIDER_NAMES := tencent_sms aliyun_sms twilio smtp webhook
PROVIDERS ?=
PROVIDER_LIST := $(strip $(subst $(comma), ,$(PROVIDERS)))
$(foreach p,$(PROVIDER_LIST),$(if $(filter $(p),$(PROVIDER_NAMES)),,$(error PROVIDERS: unknown provider $(p); known: $(PROVIDER_NAMES))))
# One binary per function serves Lambda, SCF and HTTP: -tags lambda.norpc leaves out aws-lambda-go's
# go1.x net/rpc mode (provided.al2023 uses the Runtime API; the SCF adapter speaks its protocol itself).
BUILD_TAGS := lambda.norpc$(if $(PROVIDER_LIST),$(comma)verifyfn_providers$(subst $(space),,$(foreach p,$(PROVIDER_LIST),$(comma)provider_$(p))))
GOBUILD := CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags "-s -w" -tags $(BUILD_TAGS)
ZIP_EXTRA := $(if $(ACCOUNTS),accounts.yaml=$(ACCOUNTS))
LAMBDA_ARCHS ?= arm64 amd64

build: build-lambda build-scf
	@ls -l $(DIST)/*/*.zip

build-lambda: $(MKZIP)
	@set -e; for fn in $(FUNCTIONS); do for arch in $(LAMBDA_ARCHS); do \
	  echo "build $$fn lambda $$arch (-tags $(BUILD_TAGS))"; mkdir -p $(DIST)/$$fn/lambda-$$arch; \
	  GOARCH=$$arch $(GOBUILD) -o $(DIST)/$$fn/lambda-$$arch/bootstrap ./functions/$$fn; \
	  $(MKZIP) $(DIST)/$$fn/$$fn-lambda-$$arch.zip bootstrap=$(DIST)/$$fn/lambda-$$arch/bootstrap $(ZIP_EXTRA); \
	done; done

# SCF: the Go1 runtime (event functions, net/rpc) is linux/amd64.
build-scf: $(MKZIP)
	@mkdir -p $(DIST)/tencent
	@set -e; for fn in $(FUNCTIONS); do \
	  echo "build $$fn scf amd64 (-tags $(BUILD_TAGS))"; mkdir -p $(DIST)/$$fn/scf; \
	  GOARCH=amd64 $(GOBUILD) -o $(DIST)/$$fn/scf/main ./functions/$$fn; \
	  $(MKZIP) $(DIST)/$$fn/$$fn-scf-amd64.zip main=$(DIST)/$$fn/scf/main scf_bootstrap=deploy/tencent/scf_bootstrap $(ZIP_EXTRA); \
	  rm -rf $(DIST)/tencent/$$fn && mkdir -p $(DIST)/tencent/$$fn && cp $(DIST)/$$fn/scf/main $(DIST)/tencent/$$fn/$$fn; \
	done

$(MKZIP): deploy/mkzip/main.go
	@mkdir -p $(dir $@)
	$(GO) build -o $@ ./deploy/mkzip

## package-check: serverless package (Serverless Framework v3, installed into .tools/serverless)
## offline with dummy credentials for the arm64 Lambda zips, then check the CloudFormation it
## generates; build the SCF packages and check their layout and deploy/tencent/serverless.yml
SLS_VERSION := 3.40.0
SLS := .tools/serverless/node_modules/.bin/serverless
SLS_ENV := env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID=AKIAOFFLINEPACKAGING AWS_SECRET_ACCESS_KEY=offline-packaging-only \
	SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off VERIFYFN_SLS_STORE=memory \
	VERIFYFN_SLS_CODE_KEY=offline-packaging-code-key VERIFYFN_SLS_ACCOUNTS_YAML=offline-packaging \
	VERIFYFN_SLS_DELIVERY_YAML=offline-packaging

package-check: $(SLS)
	@$(MAKE) --no-print-directory build-lambda LAMBDA_ARCHS=arm64
	rm -rf .serverless
	$(SLS_ENV) $(SLS) package --stage ci --region us-east-1
	@$(MAKE) --no-print-directory build-scf
	VERIFYFN_CFN_TEMPLATE=$(CURDIR)/.serverless/cloudformation-template-update-stack.json VERIFYFN_SCF_DIST=$(CURDIR)/$(DIST) \
	  $(GO) test -count=1 -run 'TestCloudFormation|TestTencentSCF' ./deploy/

$(SLS):
	mkdir -p .tools/serverless
	cd .tools/serverless && npm install --no-save --no-audit --no-fund --prefix . serverless@$(SLS_VERSION)

## coldstart: process start to first response per platform (Lambda via a fake Runtime API, SCF via
## net/rpc, HTTP), median of 20, and binary sizes; then sendverify measured from outside
## (internal/coldstart: exec in HTTP mode to the first answer of a signed SendVerifyCode, 20 starts,
## alternating with a hello-world net/http binary; COLDSTART_FLAGS="-compare OLD_BINARY" adds one)
COLDSTART_FLAGS ?=
coldstart:
	$(GO) test -run '^$$' -bench ColdStart -benchtime 20x -count=1 ./shared/runtime/
	$(GO) run ./internal/coldstart -n 20 -tags $(BUILD_TAGS) $(COLDSTART_FLAGS)
