# The README's test command is `make test`; CI (.ci/run) runs exactly that.
GO ?= go
FUZZTIME ?= 20s

.PHONY: test vet fmt-check unit fuzz bench build

test: fmt-check vet unit fuzz

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test ./...

# Bounded fuzzing of the claim parsers and the grouper entry point.
fuzz:
	$(GO) test ./claim -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./grouper -run '^$$' -fuzz '^FuzzGroup$$' -fuzztime $(FUZZTIME)

# End-to-end batch benchmark: 1,000,000 claims drawn from the oracle set.
bench:
	$(GO) run ./cmd/drgbench -n 1000000

build:
	$(GO) build -o drg ./cmd/drg
