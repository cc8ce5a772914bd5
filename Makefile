# Build and run tooling. `make demo` and `make test` work on a machine with only Go and the PostgreSQL
# server binaries: scripts/with-postgres.sh starts a throwaway cluster when none is available.

GO ?= go
WITH_PG := scripts/with-postgres.sh

.PHONY: generate migrate demo test fuzz bench check-generate fmt vet

# sqlc, then auditrepo-gen (the go:generate lines in models.go): go generate of the root package alone, since
# ./... would list gen/repo's files first and fail on one the generator deleted (a removed model's); then sqlc's
# output for each of the generator's golden cases.
generate:
	$(GO) generate .
	@for c in testdata/golden/*/sqlc.yaml; do $(GO) tool sqlc generate -f "$$c" || exit 1; done

# Installs the audit schema, applies the clinic's migrations and installs the audit triggers on $DATABASE_URL
# (required); an old database's public.audit_log is carried over.
migrate:
	$(GO) run ./cmd/migrate

# Runs the clinic scenario and prints the patient's audit trail, against $DATABASE_URL if set, else a
# throwaway cluster.
demo: generate
	$(WITH_PG) sh -c '$(GO) run ./cmd/migrate && $(GO) run ./cmd/demo'

# Tests use PGHOST/PGPORT (default 127.0.0.1:5432); with no server answering there, they run against a
# throwaway cluster instead.
test: vet
	@if pg_isready -q -h "$${PGHOST:-127.0.0.1}" -p "$${PGPORT:-5432}" 2>/dev/null; then \
		echo '$(GO) test -race -count=1 ./...'; \
		$(GO) test -race -count=1 ./...; \
	else \
		echo "test: no PostgreSQL at $${PGHOST:-127.0.0.1}:$${PGPORT:-5432}; using a throwaway cluster"; \
		env -u DATABASE_URL $(WITH_PG) $(GO) test -race -count=1 ./...; \
	fi

# Fails if go generate changes, adds or removes any file, tracked or untracked: the committed generated code
# must be current. It compares the tree before and after generating, so uncommitted work does not trip it;
# in a clean checkout (CI) that is the same as requiring an empty `git status --porcelain` afterwards.
TREE_STATE = git ls-files -z --cached --others --exclude-standard | xargs -0 sha256sum 2>/dev/null
check-generate:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	{ $(TREE_STATE) >"$$tmp/before" || true; } && \
	$(MAKE) --no-print-directory generate && \
	{ $(TREE_STATE) >"$$tmp/after" || true; } && \
	if ! cmp -s "$$tmp/before" "$$tmp/after"; then \
		echo "check-generate: go generate changed these files; run make generate and commit them:" >&2; \
		diff "$$tmp/before" "$$tmp/after" | sed -n 's/^[<>] [0-9a-f]*  /  /p' | sort -u >&2; \
		exit 1; \
	fi

# Measures what auditing costs (README, Performance): against $DATABASE_URL if set, else a throwaway cluster.
# BENCH_FLAGS passes flags, e.g. make bench BENCH_FLAGS='-breakdown 10000' (go run ./cmd/auditbench -h lists them).
# BENCH_TRAIL=10m (in the environment or on make's command line) adds the trail at 10M rows to the 10k one (P8):
# generating it takes minutes and some GB of disk.
BENCH_FLAGS ?=
bench:
	$(WITH_PG) $(GO) run ./cmd/auditbench $(BENCH_FLAGS)

# Runs each fuzz target briefly. Budgets are execution counts: a -fuzztime duration can fail spuriously with
# "context deadline exceeded" on a busy machine (a race in Go 1.26's fuzz coordinator, go.dev/issue/75804).
# FuzzClaimActor and FuzzAuditImage query PostgreSQL on every execution, so they get fewer.
FUZZ_EXECS ?= 50000x
FUZZ_DB_EXECS ?= 1000x
fuzz:
	$(GO) test ./audit/audithttp -run '^$$' -fuzz '^FuzzClientIP$$' -fuzztime $(FUZZ_EXECS)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzCleanText$$' -fuzztime $(FUZZ_EXECS)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzClaimActor$$' -fuzztime $(FUZZ_DB_EXECS)
	$(GO) test ./reliability -run '^$$' -fuzz '^FuzzAuditImage$$' -fuzztime $(FUZZ_DB_EXECS)
	$(GO) test ./internal/sqlparse -run '^$$' -fuzz '^FuzzSplice$$' -fuzztime $(FUZZ_EXECS)
	$(GO) test ./seal -run '^$$' -fuzz '^FuzzLeaf$$' -fuzztime $(FUZZ_EXECS)
	$(GO) test ./seal -run '^$$' -fuzz '^FuzzCanonicalJSON$$' -fuzztime $(FUZZ_EXECS)
	$(GO) test ./seal -run '^$$' -fuzz '^FuzzCanonicalJSONMatchesBefore$$' -fuzztime $(FUZZ_EXECS)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzDecodeChanges$$' -fuzztime $(FUZZ_EXECS)

fmt:
	gofmt -l -w .

vet:
	$(GO) vet ./...
