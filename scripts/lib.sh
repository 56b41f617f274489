# Shared by start.sh and test.sh: a pnpm of the pinned version and native-addon settings.
PNPM_VERSION=12.4.2

# Native addons (better-sqlite3) build from source against the local Node headers, never downloaded.
if [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi

as_root() {
  [ "$(id -u)" = 0 ]
}

# apt-get update at most once per run, and only when something is missing.
APT_UPDATED=
apt_install() {
  as_root || { echo "note: not root, so not installing Debian packages: $*" >&2; return 0; }
  missing=
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
  [ -n "$missing" ] || return 0
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  echo "installing Debian packages:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# pnpm: the global one when it is the pinned version, else a private copy under .tools/.
ensure_pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm -v 2>/dev/null)" = "$PNPM_VERSION" ]; then
    PNPM=pnpm
  else
    if [ ! -x .tools/node_modules/.bin/pnpm ]; then
      echo "installing pnpm $PNPM_VERSION into .tools/"
      npm install --silent --no-save --prefix .tools "pnpm@$PNPM_VERSION" >/dev/null
    fi
    PNPM="$(pwd)/.tools/node_modules/.bin/pnpm"
  fi
  export PATH="$(dirname "$(command -v "$PNPM")"):$PATH"
}

install_and_build() {
  # A C++ toolchain for better-sqlite3 when the machine lacks one.
  command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || apt_install python3 make g++
  ensure_pnpm
  "$PNPM" install --frozen-lockfile
  "$PNPM" run build
}
