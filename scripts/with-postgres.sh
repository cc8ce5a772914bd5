#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]: run CMD with DATABASE_URL pointing at a PostgreSQL server.
#
# If DATABASE_URL is already set, CMD simply runs against it. Otherwise a throwaway cluster is created
# from the installed server binaries in a temporary directory (trust auth, superuser "postgres", listening
# on 127.0.0.1:<free port> and on a unix socket in that directory), CMD runs with DATABASE_URL, PGHOST,
# PGPORT and PGUSER pointing at it, and the cluster is stopped and deleted when the script exits, whether
# CMD succeeded, failed or was interrupted. CMD's exit status is the script's.
#
# As root the server runs as the "postgres" user (initdb refuses root). Set PG_BINDIR to pick the binaries.
set -euo pipefail

log() { printf 'with-postgres: %s\n' "$*" >&2; }

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [ -n "${DATABASE_URL:-}" ]; then
	exec "$@"
fi

# Server binaries: $PG_BINDIR, pg_config --bindir, else the newest /usr/lib/postgresql/*/bin (Debian).
bindir=${PG_BINDIR:-}
if [ -z "$bindir" ] && command -v pg_config >/dev/null 2>&1; then
	bindir=$(pg_config --bindir)
fi
if [ ! -x "$bindir/initdb" ]; then
	bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
if [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
	log "no PostgreSQL server binaries found (initdb, pg_ctl); install them (Debian: apt-get install postgresql) or set PG_BINDIR"
	exit 1
fi

# as_server runs a server command as the cluster's owner: ourselves, or "postgres" when we are root. It
# runs from the temp dir, which that user can always enter (our working directory may not be readable).
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$tmp" && runuser -u postgres -- "$@")
	else
		(cd "$tmp" && "$@")
	fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/with-postgres.XXXXXX")
data=$tmp/data
cleanup() {
	if [ -f "$data/postmaster.pid" ]; then
		as_server "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
		log "stopped the throwaway cluster"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# On a signal, exit with the conventional status; the EXIT trap then cleans up.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" -eq 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		log "running as root but there is no 'postgres' user to run the server as"
		exit 1
	fi
	chown postgres: "$tmp"
fi

as_server "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1 || {
	cat "$tmp/initdb.log" >&2
	log "initdb failed"
	exit 1
}
# Listen on 127.0.0.1 and a socket in the temp dir only; fsync stays on (the default).
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp'
EOF

# port_busy reports whether something accepts TCP connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pick a random port below Linux's ephemeral range; retry if another process takes it before we bind.
port=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	candidate=$((20000 + RANDOM % 12000))
	port_busy "$candidate" && continue
	if as_server "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -o "-p $candidate" -w -t 60 start >/dev/null 2>&1; then
		port=$candidate
		break
	fi
	grep -q 'could not bind\|already in use' "$tmp/server.log" 2>/dev/null || break
done
if [ -z "$port" ]; then
	cat "$tmp/server.log" >&2 2>/dev/null || true
	log "could not start PostgreSQL from $bindir"
	exit 1
fi
log "started a throwaway PostgreSQL ($("$bindir/postgres" --version)) on 127.0.0.1:$port in $tmp"

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
unset PGPASSWORD

# Not exec: the EXIT trap must run after CMD to remove the cluster.
"$@"
