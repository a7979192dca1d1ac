#!/usr/bin/env bash
# Run the whole test suite (GUI tests under Xvfb when it is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg
if command -v xvfb-run >/dev/null 2>&1 && [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m pytest -q "$@"
fi
exec .venv/bin/python -m pytest -q "$@"
