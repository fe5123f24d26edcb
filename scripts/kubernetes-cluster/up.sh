#!/usr/bin/env bash
# Starts the one-node cluster as plain processes; see kubernetes-cluster.sh. Prints the kubeconfig's path last.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
source "$here/config.sh"
source "$here/start.sh"
source "$here/storage.sh"

[ "$(id -u)" = 0 ] || die "run as root: it starts containerd, a kubelet and a network bridge"
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[ -x "$cni_bin/bridge" ] || missing+=(containernetworking-plugins)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
    die "apt-get could not install ${missing[*]}"
fi
for tool in curl openssl iptables ip; do command -v "$tool" >/dev/null || die "$tool is missing (it is needed to run the cluster)"; done

for piece in "$state"/pids/*; do
  [ -f "$piece" ] && pid_alive "$(basename "$piece")" && die "the cluster is up already ($(basename "$piece") runs as pid $(cat "$piece")); kubernetes-cluster.sh down stops it"
done
bin="$(bash "$here/build.sh" | tail -n 1)" || die "the Kubernetes binaries could not be built (see above)"
[ -x "$bin/kubelet" ] || die "the Kubernetes build gave no kubelet in $bin"
mkdir -p "$state/pids" "$state/logs"
started="$(now_ms)"
# A piece that cannot start leaves nothing half up: what did start is taken down again (its logs are kept aside).
trap 'code=$?; if [ "$code" != 0 ]; then keep="$(mktemp -d)"; cp -r "$state/logs" "$keep/" 2>/dev/null; bash "$here/down.sh" >/dev/null 2>&1; say "took down what had started; the pieces'"'"' logs are in $keep/logs"; fi' EXIT

# The bridge exists before the pods, so the API server can advertise its address and CoreDNS can bind to it.
if ! ip link show "$bridge" >/dev/null 2>&1; then
  ip link add "$bridge" type bridge || die "cannot create the bridge $bridge"
  ip addr add "$gateway/${pod_cidr#*/}" dev "$bridge"
fi
ip link set "$bridge" up
chain="$(forward_chain)"
for dir in -i -o; do
  iptables -C "$chain" "$dir" "$bridge" -m comment --comment "$rule_comment" -j ACCEPT 2>/dev/null ||
    iptables -I "$chain" "$dir" "$bridge" -m comment --comment "$rule_comment" -j ACCEPT ||
    die "iptables could not accept the pods' traffic on $bridge in $chain"
done

write_credentials
write_containerd_config "$(cat "$here/pause-image")"
write_kubelet_config
write_coredns_config

start_piece etcd etcd --name ddpsim --data-dir "$state/etcd" --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster ddpsim=http://127.0.0.1:2380 --listen-metrics-urls ""
start_piece containerd containerd --config "$state/containerd/config.toml"
wait_for etcd 30 curl -sf "$etcd_url/health"
start_piece kube-apiserver "$bin/kube-apiserver" --etcd-servers "$etcd_url" --bind-address 127.0.0.1 --secure-port 6443 \
  --advertise-address "$gateway" --cert-dir "$state/pki/apiserver" --token-auth-file "$state/tokens.csv" \
  --anonymous-auth=false --authorization-mode AlwaysAllow --allow-privileged=true \
  --service-account-issuer https://kubernetes.default.svc.cluster.local --service-account-key-file "$state/pki/sa.pub" \
  --service-account-signing-key-file "$state/pki/sa.key" --service-cluster-ip-range "$service_cidr" \
  --kubelet-preferred-address-types InternalIP
wait_for containerd 30 ctr --address "$sock" version
ctr_k8s images import "$bin/pause.tar" >"$state/logs/pause-import.log" 2>&1 || die "containerd could not import the pause image; see $state/logs/pause-import.log"
wait_for kube-apiserver 90 api GET /readyz
start_piece kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$kubeconfig" --leader-elect=false \
  --service-account-private-key-file "$state/pki/sa.key" --use-service-account-credentials=false \
  --bind-address 127.0.0.1
start_piece kube-scheduler "$bin/kube-scheduler" --kubeconfig "$kubeconfig" --leader-elect=false --bind-address 127.0.0.1
start_piece kubelet "$bin/kubelet" --config "$state/kubelet/config.yaml" --kubeconfig "$kubeconfig" \
  --root-dir "$state/kubelet/root" --cert-dir "$state/kubelet/pki" --hostname-override "$node_name" --node-ip "$gateway"
start_piece coredns "$bin/coredns" -conf "$state/coredns/Corefile"
wait_for kubelet 90 node_ready
wait_for coredns 30 dns_answers
create_storage
wait_for kube-controller-manager 60 default_service_account
say "cluster up in $(since "$started") (node $node_name Ready; DNS on $gateway; storage class $storage_class with $volume_count volumes)"

for image in ${DDPSIM_KUBERNETES_IMAGES-ddpsim-cpu:latest}; do
  bash "$here/load.sh" "$image"
done
echo "$kubeconfig"
