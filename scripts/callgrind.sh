#!/usr/bin/env bash
# callgrind.sh: the server's instructions per repository Create and Update, the generated (audited) statement
# against the floor's, counted with valgrind's callgrind on a single-user backend. Bench timings on a shared VM
# move by 10-30% between rounds; instruction counts do not.
#
# It makes a throwaway cluster, lets auditbench create, migrate and seed a database (-keep, tiny), stops the
# server, then for each arm runs one statement as a prepared statement N1 and N2 times in `postgres --single`,
# each count on a fresh copy of that cluster, each EXECUTE its own transaction (as an application's are), as the
# application role, and prints (instructions at N2 - instructions at N1) / (N2 - N1). The statements are read
# from the committed generated code (gen/repo, gen/db), so they are the ones the repositories send. Arms:
#   floor    sqlc's statement on the floor's tables: the plain trigger, no claim (schema floor)
#   same     sqlc's statement on the real tables, their trigger function replaced by the floor's (auditbench
#            -same-sql derives it as the floor's: not SECURITY DEFINER, no pinned search_path, no claim read, actor
#            columns NULL; the application role granted INSERT on the audit table for it): the floor on the
#            very rows the audited arm updates, whose table and index pages are not the floor schema's copies'
#   definer, pinned, set, read  the least the design's mechanisms cost, each arm adding one to the one before:
#            same's function made SECURITY DEFINER (definer), its search_path pinned (pinned), sqlc's statement
#            setting the claim with set_config (set), the trigger reading the setting into each row (read), with
#            no binding to the statement, no parsing, no checks
#   trigger  sqlc's statement on the real tables: the generated SECURITY DEFINER trigger, no claim made
#   audited  the generated statement on the real tables: the claim and the trigger
# Every arm is sent the same parameters (the claim's included), so parsing the EXECUTE costs them the same.
# Needs valgrind and the PostgreSQL server binaries; takes about five minutes. N1 and N2: CALLGRIND_N1 (100)
# and CALLGRIND_N2 (400).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'callgrind: %s\n' "$*" >&2; }
command -v valgrind >/dev/null || { log "valgrind not found (Debian: apt-get install valgrind)"; exit 1; }
bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ -n "${PG_BINDIR:-}" ] && bindir=$PG_BINDIR
n1=${CALLGRIND_N1:-100} n2=${CALLGRIND_N2:-400}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/callgrind.XXXXXX")
chmod 755 "$tmp"
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		chown -R postgres "$tmp"
		(cd "$tmp" && runuser -u postgres -- "$@")
	else
		(cd "$tmp" && "$@")
	fi
}
cleanup() {
	[ -f "$tmp/data/postmaster.pid" ] && as_server "$bindir/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

# goconst FILE NAME prints the text of the Go raw-string constant NAME in FILE.
goconst() {
	awk -v name="$2" '
		!on && index($0, "const " name " = `") == 1 { on = 1; sub(/^[^`]*`/, "") }
		on { if (index($0, "`")) { sub(/`.*$/, ""); print; exit } print }' "$1"
}
audited_update=$(goconst gen/repo/appointment.go auditedUpdateAppointment)
audited_create=$(goconst gen/repo/appointment.go auditedCreateAppointment)
sqlc_update=$(goconst gen/db/appointments.sql.go updateAppointment | sed 1d)
sqlc_create=$(goconst gen/db/appointments.sql.go createAppointment | sed 1d)
for v in audited_update audited_create sqlc_update sqlc_create; do
	[ -n "${!v}" ] || { log "no statement for $v in gen/"; exit 1; }
done

as_server "$bindir/initdb" -D "$tmp/data" -U postgres -A trust >/dev/null
port=$(( 20000 + RANDOM % 10000 ))
as_server "$bindir/pg_ctl" -D "$tmp/data" -o "-p $port -k $tmp -c autovacuum=off" -l "$tmp/log" -w start >/dev/null
url=postgres://postgres@127.0.0.1:$port/postgres
log "seeding a database with auditbench"
db=$(DATABASE_URL=$url go run ./cmd/auditbench -keep -q -ops 5 -rounds 1 -warmup 2 -rows 500 -bulk 10 -bulk-reps 1 \
	-client-ops 2 -wal-ops 5 -wal-reps 1 -gen-runs 0 -trail-rows 0 2>&1 >/dev/null | sed -n 's/^auditbench: kept database //p')
[ -n "$db" ] || { log "auditbench kept no database"; exit 1; }
row=$(psql "postgres://postgres@127.0.0.1:$port/$db" -AtF, -c \
	"SELECT id, patient_id, dentist_id, clinic_id, date, time, type FROM public.appointments ORDER BY id LIMIT 1")
IFS=, read -r id patient dentist clinic date time type <<<"$row"
# The same arm's trigger function: the generated one made plain in place, as auditbench makes the floor's.
DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db" go run ./cmd/auditbench -same-sql >"$tmp/same.sql"
# The lower-bound arms' functions, each derived from the one before; derive checks every edit was made.
derive() {
	local from=$1 to=$2 want=$3; shift 3
	sed "$@" "$tmp/$from.sql" >"$tmp/$to.sql"
	if cmp -s "$tmp/$from.sql" "$tmp/$to.sql" || ! grep -q "$want" "$tmp/$to.sql"; then
		log "deriving arm $to from $from: the edit found nothing to change"; exit 1
	fi
}
fn=auditrepo.audit_public_appointments
derive same definer "SECURITY DEFINER" -e "\$a ALTER FUNCTION $fn() SECURITY DEFINER;\nGRANT INSERT ON auditrepo.audit_log TO auditrepo_writer;"
derive definer pinned "SET search_path" -e "s/^ALTER FUNCTION $fn() SECURITY DEFINER;/ALTER FUNCTION $fn() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;/"
cp "$tmp/pinned.sql" "$tmp/set.sql"
derive pinned read "NULL::inet, c, NULL::text, NULL::text" -e "s/^BEGIN\$/DECLARE c text := pg_catalog.current_setting('auditrepo.claim', true);\nBEGIN/" \
	-e "s/'unattributed', NULL::bigint, NULL::inet, NULL::text, NULL::text, NULL::text/'unattributed', NULL::bigint, NULL::inet, c, NULL::text, NULL::text/"
chmod 644 "$tmp"/*.sql
# The set and read arms' statements: sqlc's with the claim set by a bare set_config, as the generated statement
# adds its claim (Update: one more condition; Create: a SELECT's WHERE).
set_update=$(printf '%s' "$sqlc_update" | sed 's/^RETURNING/AND pg_catalog.set_config($$auditrepo.claim$$, $10, true) IS NOT NULL RETURNING/')
set_create=$(printf '%s' "$audited_create" | sed 's/auditrepo_claim\.claim_public_appointments(\$9, [^)]*)/pg_catalog.set_config($$auditrepo.claim$$, $9, true) IS NOT NULL/')
for v in set_update set_create; do
	grep -q 'set_config' <<<"${!v}" || { log "no claim in $v"; exit 1; }
done
as_server "$bindir/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null
mv "$tmp/data" "$tmp/seeded"

# The claim's actor as package audit formats it (see audit.Writer): kind, user id, IP, user agent, request id.
claim="'user,42,10.1.2.3,\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\",\"0f8fa5b2-7c1e-4bd4-9a8f-3c2d7e6b1a90\")'"

# script OP SEARCH_PATH SQL N writes single-user input (-j: a statement ends with ";" and a blank line).
script() {
	local op=$1 path=$2 sql=$3 n=$4 i status
	printf 'SET ROLE auditrepo_app;\n\nSET search_path = %s;\n\n' "$path"
	if [ "$op" = update ]; then
		printf 'PREPARE s(bigint, bigint, bigint, bigint, date, time, text, text, text, text) AS %s;\n\n' "$sql"
		for ((i = 0; i < n; i++)); do
			status=scheduled; ((i % 2)) && status=confirmed
			printf "EXECUTE s(%s, %s, %s, %s, '%s', '%s', '%s', '%s', 'notes', %s);\n\n" "$id" "$patient" "$dentist" "$clinic" "$date" "$time" "$type" "$status" "$claim"
		done
	else
		printf 'PREPARE s(bigint, bigint, bigint, date, time, text, text, text, text) AS %s;\n\n' "$sql"
		for ((i = 0; i < n; i++)); do
			printf "EXECUTE s(%s, %s, %s, '%s', '%s', '%s', 'scheduled', 'notes', %s);\n\n" "$patient" "$dentist" "$clinic" "$date" "$time" "$type" "$claim"
		done
	fi
}

# fresh [SETUP] replaces the cluster with a copy of the seeded one, and runs the SQL file SETUP in it as the
# superuser.
fresh() {
	rm -rf "$tmp/data"
	cp -a "$tmp/seeded" "$tmp/data"
	[ -n "${1:-}" ] || return 0
	as_server "$bindir/postgres" --single -D "$tmp/data" -j "$db" <"$1" >"$tmp/setup.log" 2>&1
	if grep -q ERROR "$tmp/setup.log"; then
		log "setting up the arm:"; grep -m3 ERROR "$tmp/setup.log" >&2; exit 1
	fi
}

# count OP SEARCH_PATH SQL N prints the instructions of a single-user backend running the script.
count() {
	local in=$tmp/in.sql out=$tmp/cg.out
	script "$@" >"$in"
	chmod 644 "$in"
	as_server valgrind --tool=callgrind --callgrind-out-file="$out" "$bindir/postgres" --single -D "$tmp/data" -j "$db" \
		<"$in" >"$tmp/single.log" 2>"$tmp/valgrind.log"
	if grep -q ERROR "$tmp/single.log" "$tmp/valgrind.log"; then
		log "the backend reported an error:"; grep -h -m3 ERROR "$tmp/single.log" "$tmp/valgrind.log" >&2; exit 1
	fi
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/valgrind.log"
}

ratio() { awk -v a="$1" -v f="$2" 'BEGIN { printf "%.3f", a / f }'; }
printf '%-8s %-8s %14s %9s %9s\n' op arm instructions "/ floor" "/ same"
for op in create update; do
	floor= same=
	for arm in floor same definer pinned set read trigger audited; do
		path=public sql=$sqlc_create setup=
		[ $op = update ] && sql=$sqlc_update
		case $arm in
		floor) path="floor, public" ;;
		same|definer|pinned) setup=$tmp/$arm.sql ;;
		set|read) setup=$tmp/$arm.sql sql=$set_create; [ $op = update ] && sql=$set_update ;;
		audited) sql=$audited_create; [ $op = update ] && sql=$audited_update ;;
		esac
		fresh "$setup"
		a=$(count $op "$path" "$sql" "$n1")
		fresh "$setup"
		b=$(count $op "$path" "$sql" "$n2")
		per=$(( (b - a) / (n2 - n1) ))
		floor=${floor:-$per}
		[ $arm = same ] && same=$per
		printf '%-8s %-8s %14d %9s %9s\n' "$op" "$arm" "$per" "$(ratio "$per" "$floor")" "$( [ -n "$same" ] && ratio "$per" "$same")"
	done
done
