#!/usr/bin/env bash
# Build the one-folder desktop application with PyInstaller: dist/genulab/
#   bash packaging/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install "pyinstaller>=6"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/genulab.spec
install -m 644 packaging/genulab.desktop dist/genulab/genulab.desktop
install -m 644 resources/icons/genulab.png dist/genulab/genulab.png
echo "built: dist/genulab/genulab  (install the .desktop entry with packaging/install_desktop.sh)"
