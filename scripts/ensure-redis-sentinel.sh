#!/usr/bin/env bash
# Makes sure redis-sentinel (Debian's redis-sentinel package) is installed,
# for the tests that run a Sentinel group (test/testkit/redistest, test/scale).
# Installs it with apt-get when missing; starts nothing (each test runs its
# own sentinels). The package's service may start a system sentinel on
# :26379 where systemd runs; the tests use their own ports.
set -euo pipefail

if command -v redis-sentinel >/dev/null 2>&1; then
  exit 0
fi
echo "ensure-redis-sentinel: installing redis-sentinel" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends redis-sentinel >/dev/null
if ! command -v redis-sentinel >/dev/null 2>&1; then
  echo "ensure-redis-sentinel: redis-sentinel still missing after install" >&2
  exit 1
fi
