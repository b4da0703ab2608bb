#!/usr/bin/env bash
# What `make test` needs from the machine, installed or started when missing (README, "Tests").
#
#   Debian packages: node/npm (Vitest, socket.io-client), chromium (tests/web), java
#   (the Cassandra 1.2 test server), redis-server (tests/multinode's private Redis),
#   nginx (tests/deploy), PostgreSQL (the second back end of tests/storage and
#   tests/actions, and `make pytest-postgresql`), pg_dump/pg_restore (postgresql-client:
#   tests/backup), promtool (prometheus: the dashboards and alert rules in tests/deploy).
#   Services: PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, started if down.
#
# As root, missing packages are installed with apt-get. Otherwise the script names them,
# prints the command to run, and exits 1. `--check` only reports (exit 1 if anything is
# missing or down). RAASEL_TEST_POSTGRES_URL / RAASEL_TEST_REDIS_URL elsewhere than
# loopback: the script leaves that service alone.
set -euo pipefail

check_only=false
[ "${1:-}" = "--check" ] && check_only=true
is_root=false
[ "$(id -u)" -eq 0 ] && is_root=true
export PATH="$PATH:/usr/sbin:/sbin"
problems=0

say() { printf 'ensure-test-deps: %s\n' "$*" >&2; }

# --- Debian packages --------------------------------------------------------------------
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v java >/dev/null || [ -n "${JAVA_HOME:-}${RAASEL_CASSANDRA_JAVA:-}" ] ||
  missing+=(openjdk-17-jre-headless)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || missing+=(nginx)
command -v promtool >/dev/null || missing+=(prometheus)
postgres_url="${RAASEL_TEST_POSTGRES_URL:-}"
local_postgres=true
case "$postgres_url" in "" | *@127.0.0.1:* | *@localhost:* | *@127.0.0.1/* | *@localhost/*) ;;
*) local_postgres=false ;;
esac
installed_postgres=false
if $local_postgres && ! command -v pg_ctlcluster >/dev/null; then
  missing+=(postgresql)
  installed_postgres=true
elif ! command -v pg_dump >/dev/null; then
  missing+=(postgresql-client)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if $check_only; then
    say "missing Debian packages: ${missing[*]}"
    problems=1
  elif $is_root; then
    say "installing ${missing[*]} (apt-get)"
    # Install without starting the packages' own services (nginx on port 80, a Redis
    # that saves to disk): this script starts what the tests need, as they need it.
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
      trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "missing Debian packages: ${missing[*]}"
    say "install them as root, then run make test again:"
    say "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# --- PostgreSQL -------------------------------------------------------------------------
postgres_ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if $local_postgres && command -v pg_ctlcluster >/dev/null && ! postgres_ready; then
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  if $check_only; then
    say "PostgreSQL ${version} is not running on 127.0.0.1:5432"
    problems=1
  elif [ -z "$version" ]; then
    say "PostgreSQL is installed but has no cluster (/etc/postgresql is empty)"
    exit 1
  elif $is_root; then
    say "starting PostgreSQL ${version}"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 50); do postgres_ready && break; sleep 0.2; done
  else
    say "PostgreSQL ${version} is not running; start it as root:"
    say "  sudo pg_ctlcluster --skip-systemctl-redirect ${version} main start"
    exit 1
  fi
fi
# The suite connects as postgres without a password (RAASEL_TEST_POSTGRES_URL changes
# that). A cluster this script just installed gets a trust line for that user on loopback.
if $installed_postgres && ! $check_only; then
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  if ! psql -h 127.0.0.1 -U postgres -w -Atc 'SELECT 1' >/dev/null 2>&1; then
    hba="/etc/postgresql/${version}/main/pg_hba.conf"
    say "trusting user postgres on 127.0.0.1 in ${hba} (a test machine's fresh cluster)"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi

# --- Redis ------------------------------------------------------------------------------
case "${RAASEL_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}" in
redis://127.0.0.1:6379* | redis://localhost:6379*)
  redis_ready() ( # a subshell: bash's /dev/tcp, no redis-cli needed
    exec 3<>/dev/tcp/127.0.0.1/6379 || exit 1
    printf 'PING\r\n' >&3
    reply=""
    read -r -t 2 reply <&3 || true
    [[ "$reply" == +PONG* ]]
  ) 2>/dev/null
  if ! redis_ready; then
    if $check_only; then
      say "Redis is not running on 127.0.0.1:6379"
      problems=1
    else
      say "starting redis-server on 127.0.0.1:6379 (keeps nothing on disk)"
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        >/dev/null
      for _ in $(seq 50); do redis_ready && break; sleep 0.1; done
      redis_ready || {
        say "redis-server did not answer on 127.0.0.1:6379"
        exit 1
      }
    fi
  fi
  ;;
esac

if $check_only && [ "$problems" -eq 0 ]; then
  say "everything the tests need is here"
fi
exit "$problems"
