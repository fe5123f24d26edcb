# Sourced by the cluster's scripts: where the cluster lives, its fixed addresses, and small helpers.
# One cluster per machine: its ports (2379/2380 etcd, 6443 API server, 10250 kubelet, 53 on the bridge for DNS), its
# bridge and its pod network are fixed.
state="${DDPSIM_KUBERNETES_DIR:-/var/lib/ddpsim-kubernetes}"
node_name="ddpsim-node"
bridge="ddpk8s0"
pod_cidr="10.244.0.0/24"
gateway="10.244.0.1" # the bridge's address on the host: the node's address, the DNS server and the API's advertised one
service_cidr="10.96.0.0/16"
api_url="https://127.0.0.1:6443"
etcd_url="http://127.0.0.1:2379"
kubeconfig="$state/kubeconfig"
sock="$state/containerd/containerd.sock"
rule_comment="ddpsim-kubernetes"
volume_count="${DDPSIM_KUBERNETES_VOLUMES:-16}"
storage_class="ddpsim-local"
cni_bin="${DDPSIM_CNI_BIN:-/usr/lib/cni}" # Debian's containernetworking-plugins

say() { echo "kubernetes-cluster: $*" >&2; }
die() { say "error: $*"; exit 1; }

now_ms() { date +%s%3N; }
since() { # start_ms -> "12.3s"
  local ms=$(($(now_ms) - $1))
  printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

ctr_k8s() { ctr --address "$sock" --namespace k8s.io "$@"; }

api() { # METHOD PATH [JSON]: one call to the API server as the admin; prints the answer, fails on an HTTP error
  local token
  token="$(cut -d, -f1 "$state/tokens.csv")"
  curl -sS --fail-with-body -k --max-time 20 -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$api_url$2"
}

pid_alive() { # name: true while the process recorded for that piece runs
  local file="$state/pids/$1"
  [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null
}

wait_for() { # piece seconds command...: polls the command once a second; on timeout says which piece and where its log is
  local piece="$1" seconds="$2"
  shift 2
  for _ in $(seq "$seconds"); do
    "$@" >/dev/null 2>&1 && return 0
    pid_alive "$piece" || die "$piece exited while starting: $(tail -n 1 "$state/logs/$piece.log" 2>/dev/null)"
    sleep 1
  done
  die "$piece did not become ready within ${seconds}s (its log: $piece.log)"
}

forward_chain() { # Docker's FORWARD policy is DROP; its DOCKER-USER chain is where a host's own rules go
  if iptables -n -L DOCKER-USER >/dev/null 2>&1; then echo DOCKER-USER; else echo FORWARD; fi
}
