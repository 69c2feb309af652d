#!/usr/bin/env bash
# Installs what only the tests need, on top of what running Berth needs
# (scripts/ensure-deps.sh): the SSH provisioner's test server, the
# portal's browser, npm (the TypeScript SDK, the MCP inspector), the ACME
# server of the TLS tests, and what the Python SDK's checks use. Safe to
# run again: it does nothing when everything is there.
set -euo pipefail
. "$(dirname "$0")/apt-install.sh"

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server) # the ssh provisioner's test server
[ -x /usr/bin/chromium ] || need+=(chromium) # the portal's browser test
command -v npm >/dev/null 2>&1 || need+=(nodejs npm) # the TypeScript SDK and the MCP inspector's test
# The Python SDK's type check and offline install check (sdk/python/test.sh).
/usr/bin/python3 -m mypy --version >/dev/null 2>&1 || need+=(python3-mypy)
/usr/bin/python3 -c 'import setuptools, wheel, venv' 2>/dev/null || need+=(python3-setuptools python3-wheel python3-venv)
apt_install "for the tests" ${need[@]+"${need[@]}"}

# Pebble, the ACME server the edge's TLS test gets certificates from.
if ! command -v pebble >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/pebble" ]; then
  echo "installing pebble"
  go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.1
fi
