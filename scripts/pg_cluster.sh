#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests: `scripts/pg_cluster.sh start` installs Debian's
# `postgresql` package when no server binaries are found (as root, with apt-get), creates a cluster
# owned by the `postgres` user in a temp folder, starts it on a free loopback port and prints two
# lines on stdout:
#
#   SFS_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/sfs_test
#   SFS_TEST_PG_DIR=/tmp/sfs-pg.XXXXXX
#
# `scripts/pg_cluster.sh stop DIR` stops that cluster and removes its folder. The cluster trusts
# local connections (no password): it listens on 127.0.0.1 only and lives for one test run.
# Progress and errors go to stderr; the exit status is non-zero when no cluster could be started.
set -euo pipefail

log() { echo "pg_cluster: $*" >&2; }

# The newest installed server binaries: Debian keeps them under /usr/lib/postgresql/VERSION/bin.
find_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

install_postgres() {
  if [[ "$(id -u)" -ne 0 ]]; then
    log "PostgreSQL is not installed and this is not root: cannot install it"
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL is not installed and there is no apt-get (not Debian): cannot install it"
    return 1
  fi
  log "installing Debian's postgresql package"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 </dev/null
}

# A TCP port nobody listens on right now, asked of the kernel (bind to port 0).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# Runs a command as the cluster's owner: initdb refuses to run as root.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local bindir dir port
  bindir="$(find_bindir)" || { install_postgres && bindir="$(find_bindir)"; } || {
    log "no PostgreSQL server binaries found"
    exit 1
  }
  if [[ "$(id -u)" -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    log "root needs a postgres user to own the cluster; none exists"
    exit 1
  fi
  # As root the cluster belongs to `postgres`, who may not reach into root's TMPDIR: use /tmp.
  if [[ "$(id -u)" -eq 0 ]]; then
    dir="$(mktemp -d /tmp/sfs-pg.XXXXXX)"
  else
    dir="$(mktemp -d "${TMPDIR:-/tmp}/sfs-pg.XXXXXX")"
  fi
  chmod 0755 "$dir"
  [[ "$(id -u)" -eq 0 ]] && chown postgres "$dir"
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || {
    log "initdb failed:"
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    exit 1
  }
  local tries=0
  while :; do
    port="$(free_port)"
    # Sockets in the cluster folder, TCP on loopback only; fsync off: a test cluster needs no
    # durability, and it makes the test suite's many commits cheap.
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      >&2; then
      break
    fi
    tries=$((tries + 1))
    if [[ $tries -ge 3 ]]; then
      log "pg_ctl start failed:"
      cat "$dir/server.log" >&2 || true
      rm -rf "$dir"
      exit 1
    fi
  done
  if ! as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres sfs_test; then
    log "createdb failed; stopping the cluster"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
    exit 1
  fi
  echo "SFS_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/sfs_test"
  echo "SFS_TEST_PG_DIR=$dir"
}

stop() {
  local dir="${1:?usage: pg_cluster.sh stop DIR}" bindir
  [[ -d "$dir/data" ]] || { log "no cluster in $dir"; exit 1; }
  bindir="$(find_bindir)"
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
  echo "usage: scripts/pg_cluster.sh start | stop DIR" >&2
  exit 2
  ;;
esac
