#!/usr/bin/env bash
# Makes sure Debian's prometheus package is installed: promtool, for the
# unit tests of the alert rules (test/deploy runs `promtool test rules`),
# and the prometheus server, which test/alerts starts on a free loopback
# port to scrape a real edgepurge with the shipped rules. Installs the
# package with apt-get when either is missing. The package's own service is
# not wanted (the tests start their own server): where the package starts
# it (systemd), it is stopped and disabled.
set -euo pipefail

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi
echo "ensure-prometheus: installing prometheus (the server and promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
for tool in promtool prometheus; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "ensure-prometheus: $tool still missing after install" >&2
    exit 1
  fi
done
