#!/bin/sh
# Installs what the tests need (Debian packages too, when run as root) and runs every test.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

# chromium: the screens; openssh: real ssh/scp/sftp clients; wireguard-go, wireguard-tools, iproute2, socat: WireGuard mode in network namespaces.
apt_install postgresql bubblewrap chromium openssh-client wireguard-go wireguard-tools iproute2 socat
# PostgreSQL: started when installed but not running; the tests use 127.0.0.1:5432 as postgres.
if as_root && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | head -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # A fresh Debian cluster asks for a password on TCP; the throwaway test databases use trust.
  if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi

# Docker Engine for the Docker provisioner tests (dockerd with vfs storage when none runs).
. scripts/docker-env.sh
ensure_docker

install_and_build
"$PNPM" run lint
"$PNPM" run typecheck
"$PNPM" run test:only
