#!/usr/bin/env bash
# Set up Genu Lab on a fresh Debian machine: system libraries for headless Qt/VTK and PDF
# rendering (when run as root), a virtual environment in .venv, and the project with its
# test extra. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 libosmesa6 poppler-utils libfontconfig1 libdbus-1-3"
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "setup: please install these Debian packages: $missing" >&2
  fi
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c tools/constraints.txt -e ".[test]"
echo "setup: done (.venv ready)"
