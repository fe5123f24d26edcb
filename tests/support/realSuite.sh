# Sourced by the suites that bring stacks up through the real Pulumi CLI (tests/e2e/run.sh, tests/check/run.sh), from
# the repository root. real_suite_ready NAME: one temporary folder for every checkout, state backend and Pulumi home
# the suite makes (TMPDIR, removed on exit), the toolchain on PATH (built, or reused from its cache, by
# scripts/pulumi-toolchain.sh) and the CPU image (training/cpu-image/build.sh); says how long that took.
real_suite_ready() {
  local name="$1" start
  start="$(date +%s)"
  TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/ddpsim-$name.XXXXXX")"
  export TMPDIR
  trap 'rm -rf "$TMPDIR"' EXIT
  local bin
  bin="$(bash scripts/pulumi-toolchain.sh)"
  PATH="$bin:$PATH"
  export PATH
  bash training/cpu-image/build.sh >/dev/null
  echo "$name: toolchain and CPU image ready after $(($(date +%s) - start))s" >&2
}
