#!/usr/bin/env bash
# From a fresh clone to a trained 2-node CPU cluster, in one command (as root on Debian, no prompts):
#   bash scripts/quickstart.sh
# Installs or reuses what is missing: the Docker engine (apt), Node.js 22+ (the npm registry), the npm packages,
# the CPU image (debootstrap), the Pulumi CLI with its Node.js language host and providers (built from Go modules:
# about 25 minutes the first time on 2 cores, cached afterwards). Then `pulumi up` of the cpu stack
# (Pulumi.cpu.yaml: 2 nodes, gloo) and the run's verdict. A second run reuses everything and takes under a minute.
# STACK=<name> picks another stack; the state stays in ./.pulumi, the passphrase is empty (docs/ci.md).
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${STACK:-cpu}"
started="$(date +%s)"

step() { echo "==> [$(($(date +%s) - started))s] $*" >&2; }

step "Docker engine"
bash scripts/setup-docker.sh

step "Node.js 22 or later"
node_bin="$(bash scripts/setup-node.sh)"
export PATH="$node_bin:$PATH"

step "npm packages"
stamp="node_modules/.ddpsim-lock-$(sha256sum package-lock.json | cut -c1-12)"
if [ -f "$stamp" ]; then
  echo "node_modules matches package-lock.json" >&2
else
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
fi
if [ -n "$(find index.ts components cli -name '*.ts' -newer bin/cli/main.js 2>/dev/null | head -n 1)" ] || [ ! -f bin/cli/main.js ]; then
  npm run build --silent >&2
fi

step "CPU image (debootstrap of Debian trixie with PyTorch: a few minutes the first time)"
bash training/cpu-image/build.sh >/dev/null

step "Pulumi CLI, Node.js language host and providers (built from Go modules: about 25 minutes the first time)"
command -v go >/dev/null || { echo "quickstart: Go 1.25 or later is needed to build the Pulumi toolchain (https://go.dev/dl/)" >&2; exit 1; }
pulumi_bin="$(bash scripts/pulumi-toolchain.sh)"
export PATH="$pulumi_bin:$PATH"

step "pulumi up of the $stack stack"
STACK="$stack" bash scripts/up.sh up --yes --skip-preview

step "waiting for the run's verdict"
verdict=0
node bin/cli/main.js wait --stack "$stack" || verdict=$?

step "done in $(($(date +%s) - started))s"
cat >&2 <<EOF

Next (in this shell, first: export PATH="$node_bin:$pulumi_bin:\$PATH"):
  npx ddpsim status --stack $stack       # per node: state, restarts, progress; one verdict
  npx ddpsim logs --stack $stack         # every node's log, merged
  STACK=$stack npm run destroy -- --yes  # remove the cluster (the checkpoint volume stays)
EOF
exit "$verdict"
