#!/usr/bin/env bash
# Tests the Python SDK against a real `berth up`, which the tests start
# themselves from bin/berth (built here when missing or older than the Go
# sources). Then checks the types with mypy and that the package installs
# offline with `pip install --no-build-isolation` (Debian's python3-mypy,
# python3-setuptools and python3-wheel, which make test installs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin="$root/bin/berth"
if [ ! -x "$bin" ] || [ -n "$(find "$root/cmd" "$root/internal" "$root/client" "$root/go.mod" -newer "$bin" \( -name '*.go' -o -name go.mod \) -print -quit 2>/dev/null)" ]; then
  make -C "$root" build
fi
py=${PYTHON:-python3}
export BERTH_BIN="$bin"
cd "$here"
"$py" -m unittest discover -s tests -t . -v "$@"

# The types, with mypy --strict (pyproject.toml).
if "${MYPY_PYTHON:-/usr/bin/python3}" -m mypy --version >/dev/null 2>&1; then
  "${MYPY_PYTHON:-/usr/bin/python3}" -m mypy --no-incremental berth
  "${MYPY_PYTHON:-/usr/bin/python3}" -m mypy --no-incremental --no-warn-return-any tests bench.py gen_sync.py
else
  echo "no mypy: install python3-mypy (make test does)" >&2
  exit 1
fi

# The install: a wheel built by setuptools with no download.
inst=${INSTALL_PYTHON:-/usr/bin/python3}
if "$inst" -c 'import setuptools, wheel, venv' 2>/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp" "$here/build" "$here/berth.egg-info"' EXIT
  "$inst" -m venv --system-site-packages "$tmp/venv"
  "$tmp/venv/bin/pip" install -q --no-build-isolation --no-index "$here"
  (cd "$tmp" && "$tmp/venv/bin/python" -c '
import os, berth
assert berth.__file__.startswith(os.getcwd()), berth.__file__
assert os.path.exists(os.path.join(os.path.dirname(berth.__file__), "py.typed"))
print("installed:", berth.__file__)')
else
  echo "$inst has no setuptools and wheel: install python3-setuptools python3-wheel (make test does)" >&2
  exit 1
fi
