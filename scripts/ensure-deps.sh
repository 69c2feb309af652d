#!/usr/bin/env bash
# Installs and starts what Berth needs on this machine when it is missing:
# a Docker engine (Debian's docker.io) and debootstrap for the local base
# images; what only the tests use is scripts/ensure-test-deps.sh. Safe to
# run again: it does nothing when everything is there.
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install ${need[*]}: run as root or install them yourself" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

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
