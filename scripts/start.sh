#!/bin/sh
# Installs, builds and starts `warren server` on the embedded default: SQLite in the data directory.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh
install_and_build
exec "$PNPM" warren server "$@"
