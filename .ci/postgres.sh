# shellcheck shell=bash
# A throwaway PostgreSQL 15 server for the tests. Source it and call start_postgres:
# it exports OUTREACH_TEST_DATABASE_URL and sets an EXIT trap that stops the server
# and removes its directory. When openssl is there the server also takes TLS, with a
# certificate for `localhost` issued by a CA made at start: OUTREACH_TEST_PG_SSL_ROOT is that
# CA, OUTREACH_TEST_PG_SSL_WRONG_ROOT another that issued nothing (without openssl neither is
# exported, and the TLS tests are listed as ignored). Or run it directly: `.ci/postgres.sh COMMAND [ARG...]`
# runs COMMAND against a fresh server and stops the server afterwards.
# Safe under `set -euo pipefail`; installs only Debian's postgresql-15 package.

_OUTREACH_PG_BIN=/usr/lib/postgresql/15/bin
_OUTREACH_PG_DIR=
_OUTREACH_PG_PID=

# Runs a command as the server's owner: initdb refuses to run as root.
_outreach_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$_OUTREACH_PG_DIR" && runuser -u postgres -- "$@")
  else
    (cd "$_OUTREACH_PG_DIR" && "$@")
  fi
}

# Prints a loopback TCP port nothing is listening on.
_outreach_pg_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
    return
  fi
  local port tries
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    # A refused connection means the port is free.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "postgres.sh: found no free port" >&2
  return 1
}

# Makes a CA, another CA, and a server certificate for `localhost` (not 127.0.0.1, so that
# verify-full by address is refused) issued by the first, in the server's directory.
_outreach_pg_certificates() {
  local dir=$1
  (
    set -e
    cd "$dir"
    for ca in ca wrong-ca; do
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
        -subj "/CN=outreach test $ca" -keyout "$ca.key" -out "$ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    done
    printf '%s\n' 'subjectAltName=DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' >server.ext
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
      -keyout server.key -out server.csr
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
      -extfile server.ext -out server.crt
    rm -f ca.key wrong-ca.key server.csr
    chmod 600 server.key
    if [ "$(id -u)" = 0 ]; then chown postgres: server.key server.crt; fi
  ) >"$dir/certificates.log" 2>&1
}

stop_postgres() {
  local dir=$_OUTREACH_PG_DIR pid=$_OUTREACH_PG_PID
  [ -n "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    _outreach_pg_as_owner "$_OUTREACH_PG_BIN/pg_ctl" stop -D "$dir/data" -m immediate -s -w -t 30 || true
  fi
  # Belt and braces: never leave a server behind.
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir" || true
  _OUTREACH_PG_DIR=
  _OUTREACH_PG_PID=
  return 0
}

start_postgres() {
  if [ -n "$_OUTREACH_PG_DIR" ]; then
    echo "postgres.sh: a server is already running in $_OUTREACH_PG_DIR" >&2
    return 1
  fi
  if [ ! -x "$_OUTREACH_PG_BIN/initdb" ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; } || {
      echo "postgres.sh: installing postgresql-15 failed" >&2
      return 1
    }
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres || return 1
  fi

  # Stop the server however the shell exits, keeping any EXIT trap already set.
  local previous
  previous=$(trap -p EXIT)
  if [ -n "$previous" ]; then
    eval "set -- $previous"
    # shellcheck disable=SC2064 # expand now: the previous command is fixed text
    trap "stop_postgres; $3" EXIT
  else
    trap stop_postgres EXIT
  fi

  # Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
  _OUTREACH_PG_DIR=$(mktemp -d /tmp/outreach-pg.XXXXXX) || return 1
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$_OUTREACH_PG_DIR" || return 1
  fi
  local dir=$_OUTREACH_PG_DIR
  _outreach_pg_as_owner "$_OUTREACH_PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
    -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    echo "postgres.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    return 1
  }

  # TLS when openssl can make the certificates; plain otherwise.
  local ssl_options=
  unset OUTREACH_TEST_PG_SSL_ROOT OUTREACH_TEST_PG_SSL_WRONG_ROOT
  if ! command -v openssl >/dev/null 2>&1; then
    echo "postgres.sh: no openssl: the server takes no TLS, and the TLS tests are ignored" >&2
  elif _outreach_pg_certificates "$dir"; then
    ssl_options="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
  else
    echo "postgres.sh: making the certificates failed; the server takes no TLS:" >&2
    cat "$dir/certificates.log" >&2
  fi

  # Another process can take the port between choosing and binding it: choose again.
  local port attempt started=
  for attempt in 1 2 3; do
    port=$(_outreach_pg_free_port) || return 1
    _outreach_pg_as_owner "$_OUTREACH_PG_BIN/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -s -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir" \
      -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 $ssl_options" && {
      started=1
      break
    }
    grep -q 'could not bind' "$dir/server.log" 2>/dev/null || break
  done
  if [ -z "$started" ]; then
    echo "postgres.sh: the server did not start:" >&2
    tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
    return 1
  fi
  _OUTREACH_PG_PID=$(head -n 1 "$dir/data/postmaster.pid")

  local i
  for i in $(seq 1 30); do
    if "$_OUTREACH_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
      export OUTREACH_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
      echo "OUTREACH_TEST_DATABASE_URL=$OUTREACH_TEST_DATABASE_URL"
      if [ -n "$ssl_options" ]; then
        export OUTREACH_TEST_PG_SSL_ROOT="$dir/ca.pem" OUTREACH_TEST_PG_SSL_WRONG_ROOT="$dir/wrong-ca.pem"
        echo "OUTREACH_TEST_PG_SSL_ROOT=$OUTREACH_TEST_PG_SSL_ROOT"
      fi
      return 0
    fi
    sleep 1
  done
  echo "postgres.sh: the server is not accepting connections after 30 s:" >&2
  tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
  return 1
}

# Run directly: start a server, run the given command against it, stop the server.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ "$#" -eq 0 ]; then
    echo "usage: source $0 && start_postgres   or   $0 COMMAND [ARG...]" >&2
    exit 2
  fi
  start_postgres
  "$@"
fi
