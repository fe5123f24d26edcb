# Sourced by up.sh: writes the cluster's configuration into $state (credentials, containerd, CNI, kubelet, CoreDNS).
write_credentials() {
  mkdir -p "$state/pki"
  # One admin token for every client (the pieces, the tests, the CLI); the API server allows everything it asks.
  [ -f "$state/tokens.csv" ] || echo "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'),admin,admin,system:masters" >"$state/tokens.csv"
  [ -f "$state/pki/sa.key" ] || openssl genrsa -out "$state/pki/sa.key" 2048 2>/dev/null || die "openssl could not make the service account key"
  openssl rsa -in "$state/pki/sa.key" -pubout -out "$state/pki/sa.pub" 2>/dev/null
  cat >"$kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: ddpsim
  cluster:
    server: $api_url
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: $(cut -d, -f1 "$state/tokens.csv")
contexts:
- name: ddpsim
  context: {cluster: ddpsim, user: admin, namespace: default}
current-context: ddpsim
YAML
  chmod 600 "$kubeconfig"
}

write_containerd_config() {
  local pause_ref="$1"
  mkdir -p "$state/containerd" "$state/cni/net.d"
  # restrict_oom_score_adj: the kubelet asks for oom_score_adj -998, which needs CAP_SYS_RESOURCE; without it every
  # sandbox fails with runc's "can't get final child's PID from pipe: EOF" where that capability is missing.
  cat >"$state/containerd/config.toml" <<TOML
version = 2
root = "$state/containerd/root"
state = "$state/containerd/state"
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$state/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_ref"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$state/cni/net.d"
TOML
  # No masquerade and no port mapping: the pods talk to each other and to the DNS server on the bridge only, so the
  # plugins add no iptables rule of their own.
  cat >"$state/cni/net.d/10-ddpsim.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "ddpsim",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr", "gateway": "$gateway"}]], "dataDir": "$state/cni/ipam"}
    },
    {"type": "loopback"}
  ]
}
JSON
}

write_kubelet_config() {
  mkdir -p "$state/kubelet" "$state/pod-logs"
  # cgroup v1, no systemd, and no CAP_SYS_RESOURCE where this was made: no QoS cgroups, no node allocatable
  # enforcement, cgroupfs. Images are imported, never pulled: image garbage collection is off so they stay.
  cat >"$state/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$sock
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
protectKernelDefaults: false
localStorageCapacityIsolation: false
makeIPTablesUtilChains: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"}
address: $gateway
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
clusterDNS: [$gateway]
clusterDomain: cluster.local
podLogsDir: $state/pod-logs
volumePluginDir: $state/kubelet/volume-plugins
YAML
}

write_coredns_config() {
  mkdir -p "$state/coredns"
  # Bound to the bridge only: pods' names (<pod>.<service>.<namespace>.svc.cluster.local) from the API server.
  cat >"$state/coredns/Corefile" <<COREFILE
.:53 {
    bind $gateway
    errors
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa {
        kubeconfig $kubeconfig ddpsim
        pods insecure
        ttl 5
    }
    forward . /etc/resolv.conf
    cache 5
}
COREFILE
}
