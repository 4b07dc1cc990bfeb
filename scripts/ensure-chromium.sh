#!/usr/bin/env bash
# Makes sure headless Chromium (Debian's chromium package) is installed at
# /usr/bin/chromium, for the console's browser tests (test/console).
# Installs it with apt-get when missing; starts nothing (each test runs
# its own browser).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "ensure-chromium: installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-chromium: /usr/bin/chromium still missing after install" >&2
  exit 1
fi
