#!/usr/bin/env bash
# Makes sure promtool (Debian's prometheus package) is installed, for the
# test of the alert rules (test/deploy runs `promtool test rules`).
# Installs it with apt-get when missing. The package's Prometheus server
# is not needed: where the package starts it (systemd), it is stopped.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
echo "ensure-promtool: installing prometheus (for promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
if ! command -v promtool >/dev/null 2>&1; then
  echo "ensure-promtool: promtool still missing after install" >&2
  exit 1
fi
