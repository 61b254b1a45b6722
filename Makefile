# verifyfn: `make test` runs every test; `go run ./cmd/verifyfn` runs the service.
GO ?= go
PKGS := ./...

.PHONY: test lint unit bench run

## test: formatting, vet, and every test under the race detector
test: lint unit

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 $(PKGS)

## bench: the benchmarks named in the issues (signature, phone parsing, full request vs ceiling)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

run:
	$(GO) run ./cmd/verifyfn
