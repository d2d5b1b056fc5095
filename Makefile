# The README's test command is `make test`; CI (.ci/run) runs exactly that.
GO ?= go
FUZZTIME ?= 20s

.PHONY: test vet fmt-check unit fuzz bench build loadcheck

test: fmt-check vet unit fuzz

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test ./...
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && ! command -v google-chrome >/dev/null && [ -z "$$DRG_CHROMIUM" ]; then \
	  echo "NOTE: web browser tests were SKIPPED: chromium is not installed (apt-get install chromium, or set DRG_CHROMIUM); CI fails instead of skipping"; fi

# Bounded fuzzing of the claim parsers and the grouper entry point. Minimizing a new
# interesting input may take the default 60 s, which would spend the whole budget without
# fuzzing (the engine reports 0 execs/s meanwhile); a short minimization keeps it fuzzing.
fuzz:
	$(GO) test ./claim -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s
	$(GO) test ./grouper -run '^$$' -fuzz '^FuzzGroup$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s

# End-to-end batch benchmark: 1,000,000 claims drawn from the oracle set.
bench:
	$(GO) run ./cmd/drgbench -n 1000000

build:
	$(GO) build -o drg ./cmd/drg

# Load check of drg serve (not part of make test; needs ../shared or DRG_DATA): POST /v1/group
# open loop at 5,000 req/s and closed loop with 8 clients, then encounter writes with 8
# clients, 3 runs each, on loopback. With 2+ cores the server runs on core 0 and the load
# generator on core 1 so that they do not take each other's CPU.
# LOADPG=postgres://… runs two instances (LOADPORT and LOADPORT+1) on that PostgreSQL database
# instead of one on a temporary SQLite file, and the load generator spreads its clients over
# both, as a load balancer would. The database keeps what the check writes: use a scratch one.
LOADPORT ?= 18787
LOADPG ?=
loadcheck:
	@set -e; dir=$$(mktemp -d); \
	$(GO) build -o $$dir/drg ./cmd/drg; $(GO) build -o $$dir/drgload ./cmd/drgload; \
	if [ -n "$(LOADPG)" ]; then db="$(LOADPG)"; ports="$(LOADPORT) $$(($(LOADPORT)+1))"; else db="sqlite:$$dir/drg.db"; ports="$(LOADPORT)"; fi; \
	tok=$$($$dir/drg users add --db "$$db" --name "load-$$(date +%s)-$$$$" --role coder | tail -1); \
	srv=""; cli=""; if [ "$$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then srv="taskset -c 0"; cli="taskset -c 1"; fi; \
	pids=""; urls=""; \
	for p in $$ports; do $$srv $$dir/drg serve --addr 127.0.0.1:$$p --db "$$db" --instance load-$$p 2>$$dir/serve-$$p.log & pids="$$pids $$!"; urls="$$urls,http://127.0.0.1:$$p"; done; \
	urls=$${urls#,}; \
	trap 'kill $$pids 2>/dev/null; wait $$pids 2>/dev/null; rm -rf '"$$dir" EXIT; \
	echo "servers: $$urls ($${db%%:*})"; \
	for i in 1 2 3; do $$cli $$dir/drgload --url $$urls --token $$tok --mode group --rate 5000 --concurrency 16 --duration 10s; done; \
	for i in 1 2 3; do $$cli $$dir/drgload --url $$urls --token $$tok --mode group --concurrency 8 --duration 10s; done; \
	for i in 1 2 3; do $$cli $$dir/drgload --url $$urls --token $$tok --mode encounters --concurrency 8 --duration 10s; done
