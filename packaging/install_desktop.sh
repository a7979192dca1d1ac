#!/usr/bin/env bash
# Install the built app's desktop entry and icon for the current user (Linux).
set -euo pipefail
cd "$(dirname "$0")/.."
APP="$(pwd)/dist/genulab"
[ -x "$APP/genulab" ] || { echo "build first: bash packaging/build.sh" >&2; exit 1; }
mkdir -p ~/.local/share/applications ~/.local/share/icons/hicolor/256x256/apps
sed "s|^Exec=genulab|Exec=$APP/genulab|" packaging/genulab.desktop > ~/.local/share/applications/genulab.desktop
cp resources/icons/genulab.png ~/.local/share/icons/hicolor/256x256/apps/genulab.png
echo "installed ~/.local/share/applications/genulab.desktop"
