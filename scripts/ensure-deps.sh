#!/usr/bin/env bash
# Installs and starts what Berth needs on this machine when it is missing:
# a Docker engine (Debian's docker.io) and debootstrap for the local base
# images; what only the tests use is scripts/ensure-test-deps.sh. Safe to
# run again: it does nothing when everything is there.
set -euo pipefail
. "$(dirname "$0")/apt-install.sh"

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
apt_install "what Berth runs on" ${need[@]+"${need[@]}"}

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd"
  if [ "$(id -u)" -ne 0 ]; then
    echo "the Docker engine is not running and starting it needs root" >&2
    exit 1
  fi
  log=/var/log/berth-dockerd.log
  (setsid dockerd >"$log" 2>&1 &)
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    echo "dockerd did not start; its log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
fi
