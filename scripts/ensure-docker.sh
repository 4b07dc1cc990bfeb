#!/usr/bin/env bash
# Makes sure a Docker engine answers, for `make test-container`.
#
#   scripts/ensure-docker.sh                  make sure one answers; leave it running
#   scripts/ensure-docker.sh COMMAND [ARG…]   the same, run COMMAND, then stop the
#                                             engine again if this script started it
#
# Installs Debian's docker.io when dockerd is missing, and what the container
# test builds with: busybox-static (the shell of the stand-in base images) and
# docker-compose (`docker-compose config` validates docker-compose.yml).
#
# When no engine answers it starts one: `dockerd --bridge=none
# --iptables=false`. No bridge and no iptables rules: containers get the host's
# network (--network host) or none, never a private-range network, and the
# host's firewall is left as it was. An engine that was already running is
# used as it is and left running: this script stops only the dockerd it
# started, by its pid, when COMMAND ends (or fails, or is interrupted).
# COMMAND's exit status is the script's.
set -euo pipefail

log() { echo "ensure-docker: $*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; fi

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
# A static busybox (the stand-in build image's shell): Debian's busybox
# package is dynamically linked, busybox-static is not.
static_busybox() {
  [ -x /bin/busybox ] || return 1
  case "$(LC_ALL=C file -b /bin/busybox 2>/dev/null || ldd /bin/busybox 2>&1 || true)" in
    *"statically linked"*|*"not a dynamic executable"*) return 0 ;;
  esac
  return 1
}
static_busybox || need+=(busybox-static)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends: docker.io recommends apparmor, cgroupfs-mount,
  # git, xz-utils…, none of which the engine needs here.
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# /usr/local/bin may hold a newer docker client than Debian's; either talks
# to the engine (the client negotiates the API version).
command -v docker >/dev/null 2>&1 || { log "no docker client after installing docker.io"; exit 1; }

answers() { docker info >/dev/null 2>&1; }

started=""
dir=""
stop_engine() {
  [ -n "$started" ] || return 0
  log "stopping the dockerd this script started (pid $started)"
  $SUDO kill -TERM "$started" 2>/dev/null || true
  for _ in $(seq 1 150); do
    if ! $SUDO kill -0 "$started" 2>/dev/null; then
      started=""
      rm -rf "$dir"
      return 0
    fi
    sleep 0.2
  done
  log "dockerd (pid $started) still runs after 30 s; killing it"
  $SUDO kill -KILL "$started" 2>/dev/null || true
  started=""
}

if answers; then
  log "a Docker engine answers already; using it and leaving it running"
else
  dir=$(mktemp -d /tmp/edgepurge-dockerd.XXXXXX)
  log "starting dockerd --bridge=none --iptables=false (log $dir/dockerd.log)"
  # setsid: the engine and the containerd it starts are not in this
  # script's process group, so an interrupt of the test does not kill
  # them half-way; stop_engine stops them in order.
  $SUDO setsid dockerd --bridge=none --iptables=false \
    --pidfile "$dir/dockerd.pid" >"$dir/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 150); do
    if [ -s "$dir/dockerd.pid" ] && answers; then break; fi
    sleep 0.2
  done
  if ! answers; then
    log "dockerd did not answer within 30 s; its log:"
    tail -n 30 "$dir/dockerd.log" >&2 || true
    [ -s "$dir/dockerd.pid" ] && $SUDO kill -TERM "$(cat "$dir/dockerd.pid")" 2>/dev/null || true
    exit 1
  fi
  started=$(cat "$dir/dockerd.pid")
  log "dockerd answers (pid $started)"
fi

if [ $# -eq 0 ]; then
  [ -z "$started" ] || log "leaving dockerd (pid $started) running; stop it with: kill $started"
  exit 0
fi

trap 'stop_engine' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
set +e
"$@"
rc=$?
set -e
exit "$rc"
