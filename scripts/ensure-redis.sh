#!/usr/bin/env bash
# Makes sure the Redis of the URL given (REDIS_URL for `make redis` and
# `make run`; redis://127.0.0.1:6379 without one, as the tests use)
# answers: on this machine (localhost, 127.0.0.1) it starts redis-server on
# that port if nothing answers, installing it with apt-get if it is
# missing; any other host is only checked: it must answer PING.
set -euo pipefail

url=${1:-redis://127.0.0.1:6379}
# host[:port] of [scheme://][user:password@]host[:port][/db]; the password
# is never printed.
hostport=${url#*://}
hostport=${hostport##*@}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
if [ "$host" = "$hostport" ]; then port=6379; fi
case "$host" in
  localhost | 127.0.0.1) ;;
  *)
    # Another host is only checked, never started. The password goes through
    # REDISCLI_AUTH, not argv (ps shows argv) nor the output.
    cred=${url#*://}
    cred=${cred%%/*}
    auth=""
    case "$cred" in *:*@*) auth=${cred%@*} auth=${auth#*:} ;; esac
    command -v redis-cli >/dev/null 2>&1 || { echo "ensure-redis: redis-cli is needed to check $host:$port (apt-get install redis-tools)" >&2; exit 1; }
    tls=""
    case "$url" in rediss://*) tls=--tls ;; esac
    if REDISCLI_AUTH=$auth timeout 5 redis-cli $tls -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG; then
      echo "ensure-redis: REDIS_URL names $host:$port, not this machine: it answers PING; none is started here" >&2
      exit 0
    fi
    echo "ensure-redis: REDIS_URL names $host:$port, which does not answer PING (within 5s, with the URL's password if any): start that Redis, or fix or unset REDIS_URL (unset: a local one on 127.0.0.1:6379)" >&2
    exit 1
    ;;
esac

answers() { command -v redis-cli >/dev/null 2>&1 && [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; }

if answers; then
  echo "ensure-redis: using the Redis answering on 127.0.0.1:$port" >&2
  exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: installing redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server redis-tools >/dev/null
fi
dir=$(mktemp -d /tmp/edgepurge-redis.XXXXXX)
echo "ensure-redis: nothing answers on 127.0.0.1:$port: starting redis-server there (dir $dir)" >&2
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$dir" --logfile "$dir/redis.log"
for _ in $(seq 1 50); do
  if answers; then exit 0; fi
  sleep 0.1
done
echo "ensure-redis: redis-server did not answer on 127.0.0.1:$port; see $dir/redis.log" >&2
exit 1
