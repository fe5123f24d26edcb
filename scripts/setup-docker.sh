#!/usr/bin/env bash
# Makes a Docker engine available on a Debian machine: installs docker.io (and debootstrap, which builds
# the CPU image, and docker-compose, which runs the Compose export) when missing, starts dockerd when it is not running, and waits for it, bounded.
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
wait_seconds="${DOCKER_WAIT_SECONDS:-60}"

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v docker-compose >/dev/null || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd" >&2
  nohup dockerd >/tmp/ddpsim-dockerd.log 2>&1 &
  for _ in $(seq "$wait_seconds"); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { echo "dockerd did not answer within ${wait_seconds}s; see /tmp/ddpsim-dockerd.log" >&2; exit 1; }
echo "docker $(docker version --format '{{.Server.Version}}') is ready" >&2
