#!/usr/bin/env bash
# Makes sure varnishd and the xkey vmod (Debian's varnish-modules) are
# installed, for the tests that run a real Varnish. Installs them with
# apt-get when missing; starts nothing (each test runs its own varnishd).
set -euo pipefail

has_xkey() {
  local d
  for d in /usr/lib/varnish/vmods /usr/lib/*/varnish/vmods /usr/local/lib/varnish/vmods; do
    [ -e "$d/libvmod_xkey.so" ] && return 0
  done
  return 1
}

if command -v varnishd >/dev/null 2>&1 && has_xkey; then
  exit 0
fi
echo "ensure-varnish: installing varnish and varnish-modules" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends varnish varnish-modules >/dev/null
# The package starts a system varnishd on :6081 where systemd runs; the tests
# run their own, so it is not needed (and is harmless where it does not start).
if ! command -v varnishd >/dev/null 2>&1 || ! has_xkey; then
  echo "ensure-varnish: varnishd or libvmod_xkey.so still missing after install" >&2
  exit 1
fi
