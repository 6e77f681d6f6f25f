#!/usr/bin/env bash
# Makes sure what the tests need is up: PostgreSQL, Redis, and Debian's Chromium for the browser
# tests. Safe to run again; does nothing where things already run. Tests that need a service fail
# under CI=true when it is missing, and are skipped (with the reason) elsewhere.
set -u

have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo -n "$@"; else return 1; fi; }

if have pg_isready && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi

if have redis-cli && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if have redis-server; then
    echo "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  fi
fi

if [ ! -x /usr/bin/chromium ] && have apt-get; then
  echo "installing Debian's chromium for the browser tests"
  (as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null || \
    echo "could not install chromium; browser tests will say so"
fi

for _ in $(seq 1 20); do
  ok=1
  have pg_isready && { pg_isready -q -h 127.0.0.1 -p 5432 || ok=0; }
  have redis-cli && { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || ok=0; }
  [ $ok = 1 ] && break
  sleep 0.5
done
exit 0
