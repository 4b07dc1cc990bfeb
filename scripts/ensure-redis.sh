#!/usr/bin/env bash
# Makes sure a Redis answers on 127.0.0.1:6379: starts redis-server if
# nothing answers, installs it with apt-get if it is missing.
set -euo pipefail

answers() { command -v redis-cli >/dev/null 2>&1 && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if answers; then exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: installing redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server redis-tools >/dev/null
fi
dir=$(mktemp -d /tmp/edgepurge-redis.XXXXXX)
echo "ensure-redis: starting redis-server on 127.0.0.1:6379 (dir $dir)" >&2
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir "$dir" --logfile "$dir/redis.log"
for _ in $(seq 1 50); do
  if answers; then exit 0; fi
  sleep 0.1
done
echo "ensure-redis: redis-server did not answer on 127.0.0.1:6379; see $dir/redis.log" >&2
exit 1
