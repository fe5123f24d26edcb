#!/usr/bin/env bash
# Draws a run's metrics as a PNG (loss and samples/s per step, restarts marked), with training/plot_metrics.py
# run in the training image, so that the host needs neither Python nor matplotlib:
#   npm run plot -- --volume <checkpoint volume> [--out run.png] [--image ddpsim-cpu:latest] [--title TEXT]
#   npm run plot -- --metrics path/to/metrics.jsonl [--out run.png]
# The volume is mounted read-only; the PNG is written on the host, owned by the caller.
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# `npm run` starts in the package folder; relative paths on the command line are the caller's.
cd "${INIT_CWD:-$PWD}"

usage() { sed -n '4,5s/^#   //p' "$0" >&2; exit 2; }
volume="" metrics="" out="run.png" image="${DDPSIM_IMAGE:-ddpsim-cpu:latest}" title=()
while [ $# -gt 0 ]; do
  case "$1" in
    --volume) volume="${2:?}"; shift 2 ;;
    --metrics) metrics="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --image) image="${2:?}"; shift 2 ;;
    --title) title=(--title "${2:?}"); shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$volume" ] || [ -n "$metrics" ] || usage

out_abs="$(realpath -m "$out")"
mkdir -p "$(dirname "$out_abs")"
if [ -n "$volume" ]; then
  docker volume inspect "$volume" >/dev/null 2>&1 || { echo "plot: no Docker volume named $volume" >&2; exit 1; }
  source_mount=(-v "$volume:/checkpoints:ro")
  inside=/checkpoints/metrics.jsonl
else
  metrics_abs="$(realpath "$metrics")"
  source_mount=(-v "$(dirname "$metrics_abs"):/checkpoints:ro")
  inside="/checkpoints/$(basename "$metrics_abs")"
fi

docker run --rm --network none --user "$(id -u):$(id -g)" -e MPLCONFIGDIR=/tmp -e HOME=/tmp \
  "${source_mount[@]}" \
  -v "$repo/training/plot_metrics.py:/plot/plot_metrics.py:ro" \
  -v "$(dirname "$out_abs"):/out" \
  "$image" python3 /plot/plot_metrics.py "$inside" --out "/out/$(basename "$out_abs")" "${title[@]}"
