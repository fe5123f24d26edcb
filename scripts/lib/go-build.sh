# Helpers of the scripts that build from Go modules (pulumi-toolchain.sh, pulumi-kubernetes-provider.sh,
# kubernetes-cluster/build.sh), sourced by them. The caller defines say() and sets log, the build log.

fail() { # reason: the reason, the first error lines, then the tail of the log; exits 1
  say "error: $1"
  say "first error lines in $log:"
  grep -m 5 -iE 'error|cannot|refused|forbidden|not available' "$log" | sed 's/^/  /' >&2 || true
  say "last lines of $log:"
  tail -n 25 "$log" | sed 's/^/  /' >&2
  exit 1
}

timed() { # name command...: runs a build step into the log and says how long it took
  local name="$1" start
  shift
  start="$(date +%s)"
  echo "== $name: $*" >>"$log"
  if "$@" >>"$log" 2>&1; then
    say "$name built in $(($(date +%s) - start))s"
  else
    fail "$name failed after $(($(date +%s) - start))s"
  fi
}

module_dir() { # module@version -> its directory in the (read-only) module cache; the proxy's answer goes to the log
  local json dir
  json="$(go mod download -json "$1" 2>>"$log")" || true
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  [ -n "$dir" ] || echo "go mod download $1: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$json")" >>"$log"
  echo "$dir"
}

copy_module() { # module@version destination: a writable copy of a downloaded module
  local from
  from="$(module_dir "$1")"
  [ -n "$from" ] && [ -d "$from" ] || return 1
  rm -rf "$2"
  cp -r "$from" "$2"
  chmod -R u+w "$2"
}
