# Sourced (after lib.sh when available): `ensure_docker` gives the Docker provisioner tests an
# engine. As root it installs docker.io and busybox-static when missing and starts dockerd in
# the background when nothing answers; otherwise it only reports. Never fails the caller: the
# Docker tests skip, saying why, when there is no engine.
#
# Flags: dockerd inside a container has no iptables and no overlay mounts, hence
# --iptables=false and the vfs storage driver; override with WARREN_DOCKERD_FLAGS.

ensure_docker() {
  if [ "$(id -u)" = 0 ]; then
    if command -v apt_install >/dev/null 2>&1; then
      apt_install docker.io busybox-static
    else
      docker_missing=
      for pkg in docker.io busybox-static; do dpkg -s "$pkg" >/dev/null 2>&1 || docker_missing="$docker_missing $pkg"; done
      if [ -n "$docker_missing" ]; then
        apt-get update -qq
        echo "installing Debian packages:$docker_missing"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $docker_missing >/dev/null
      fi
    fi
  fi

  if ! command -v docker >/dev/null 2>&1; then
    echo "note: docker is not installed; the Docker provisioner tests will skip" >&2
    return 0
  fi
  docker info >/dev/null 2>&1 && return 0

  if [ -n "${DOCKER_HOST:-}" ]; then
    echo "note: DOCKER_HOST=$DOCKER_HOST does not answer; the Docker provisioner tests will skip" >&2
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null 2>&1; then
    echo "note: no Docker Engine answers and this script cannot start one; the Docker provisioner tests will skip" >&2
    return 0
  fi

  docker_log="${TMPDIR:-/tmp}/warren-dockerd.log"
  echo "starting dockerd (log: $docker_log)"
  # shellcheck disable=SC2086 # the flags are words on purpose
  nohup dockerd ${WARREN_DOCKERD_FLAGS:---iptables=false --storage-driver=vfs} >>"$docker_log" 2>&1 &
  docker_wait=0
  while [ "$docker_wait" -lt 60 ]; do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.5
    docker_wait=$((docker_wait + 1))
  done
  echo "note: dockerd did not answer within 30 seconds (see $docker_log); the Docker provisioner tests will skip" >&2
  return 0
}
