#!/usr/bin/env bash
# Extra MariaDB servers on this machine, for the fleet tests (several servers).
#
#   scripts/extra_mariadb.sh start 3307 3308   # start (or reuse) one server per port
#   scripts/extra_mariadb.sh stop 3307 3308    # stop them and delete their data
#   scripts/extra_mariadb.sh urls 3307 3308    # print BACKOFFICE_TEST_MYSQL_URLS
#
# Each server has its own datadir, socket and pid file under
# $BACKOFFICE_EXTRA_MARIADB_DIR (default: ${TMPDIR:-/tmp}/backoffice-mariadb/PORT)
# and answers on 127.0.0.1:PORT as root with an empty password, like the CI
# server on 3306. Small buffers: they start in a few seconds and hold test data.
set -euo pipefail

base="${BACKOFFICE_EXTRA_MARIADB_DIR:-${TMPDIR:-/tmp}/backoffice-mariadb}"
me="$(id -un)"

find_bin() {
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
    for dir in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      if [ -x "$dir/$name" ]; then echo "$dir/$name"; return; fi
    done
  done
  echo "FATAL: none of $* is installed" >&2
  exit 1
}

ping() {
  mysqladmin -h127.0.0.1 -P"$1" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

start() {
  local port="$1" dir="$base/$1"
  if ping "$port"; then
    echo "MariaDB on port $port is already running"
    return
  fi
  mkdir -p "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    "$(find_bin mariadb-install-db mysql_install_db)" --no-defaults --user="$me" --datadir="$dir/data" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log" >&2; exit 1; }
  fi
  setsid "$(find_bin mariadbd mysqld)" --no-defaults --user="$me" --datadir="$dir/data" \
    --port="$port" --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" \
    --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
    --skip-name-resolve --skip-log-bin --performance-schema=OFF \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
    --innodb-flush-log-at-trx-commit=2 --max-connections=500 \
    --table-definition-cache=4000 --table-open-cache=8000 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    if ping "$port"; then echo "MariaDB on port $port started"; return; fi
    sleep 0.2
  done
  echo "FATAL: MariaDB on port $port did not start; see $dir/error.log" >&2
  tail -n 20 "$dir/error.log" >&2 || true
  exit 1
}

stop() {
  local port="$1" dir="$base/$1"
  if [ -f "$dir/mysqld.pid" ]; then
    local pid
    pid="$(cat "$dir/mysqld.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -rf "$dir"
  echo "MariaDB on port $port stopped"
}

cmd="${1:-}"
shift || true
[ $# -gt 0 ] || { echo "usage: $0 start|stop|urls PORT..." >&2; exit 2; }
case "$cmd" in
  start) for port in "$@"; do start "$port"; done ;;
  stop) for port in "$@"; do stop "$port"; done ;;
  urls)
    urls=()
    for port in "$@"; do urls+=("mysql+pymysql://root@127.0.0.1:$port/"); done
    (IFS=,; echo "${urls[*]}")
    ;;
  *) echo "usage: $0 start|stop|urls PORT..." >&2; exit 2 ;;
esac
