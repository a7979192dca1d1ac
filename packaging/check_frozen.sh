#!/usr/bin/env bash
# Build the frozen app, start it under Xvfb and open the sample session (slow; not part of
# the default test run).   bash packaging/check_frozen.sh [--no-build] [SESSION]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--no-build" ]; then shift; else bash packaging/build.sh; fi
SESSION=${1:-}
if [ -z "$SESSION" ]; then
  SESSION=$(ls -d sample_c3d/*/pre 2>/dev/null | head -1 || true)
  [ -n "$SESSION" ] || SESSION=../shared/reference/BTKData/PiG/PiG_Motion-FlatFoot-Full.c3d
fi
echo "opening $SESSION with the frozen app"
export XDG_CONFIG_HOME=$(mktemp -d)            # fresh QSettings
OUT=$(xvfb-run -a -s "-screen 0 1600x1000x24" timeout 180 dist/genulab/genulab gui "$SESSION" --exit-after 25 2>&1) || {
  echo "$OUT" | tail -30; echo "FAIL: the frozen app did not exit cleanly" >&2; exit 1; }
echo "$OUT" | tail -5
echo "$OUT" | grep -q "opened [1-9][0-9]* session(s), [1-9][0-9]* trial(s)" || {
  echo "FAIL: the session was not opened" >&2; exit 1; }
echo "$OUT" | grep -qi "error shown" && { echo "FAIL: an error dialog was shown" >&2; exit 1; }
dist/genulab/genulab --version
echo "OK: frozen app starts under Xvfb and opens $SESSION"
