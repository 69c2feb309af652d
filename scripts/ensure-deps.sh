#!/usr/bin/env bash
# Installs and starts what Berth needs on this machine when it is missing:
# a Docker engine (Debian's docker.io) and debootstrap for the local base
# images. Safe to run again: it does nothing when everything is there.
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
[ -x /usr/sbin/sshd ] || need+=(openssh-server) # the ssh provisioner's test server
[ -x /usr/bin/chromium ] || need+=(chromium) # the portal's browser test
command -v npm >/dev/null 2>&1 || need+=(nodejs npm) # the TypeScript SDK's build and tests
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

# Pebble, the ACME server the edge's TLS test gets certificates from.
if ! command -v pebble >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/pebble" ]; then
  echo "installing pebble"
  go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.1
fi
