# Sourced by up.sh: starts one piece as a background process of its own, its output in $state/logs/<piece>.log and
# its process id in $state/pids/<piece>, which down.sh stops.
start_piece() { # piece command...
  local piece="$1"
  shift
  pid_alive "$piece" && die "$piece is already running (pid $(cat "$state/pids/$piece")); run: kubernetes-cluster.sh down"
  setsid "$@" >"$state/logs/$piece.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$piece"
}
