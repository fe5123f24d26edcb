#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine, as plain processes, for ddpsim's kubernetes target (no kind, k3s or
# registry image is needed):
#   bash scripts/kubernetes-cluster.sh up              builds what is missing (cached), starts the cluster, imports
#                                                       the CPU image, prints the kubeconfig's path last
#   bash scripts/kubernetes-cluster.sh load IMAGE       imports an image of the Docker engine into the cluster
#   bash scripts/kubernetes-cluster.sh env              prints `export KUBECONFIG=...` for eval
#   bash scripts/kubernetes-cluster.sh down             stops it and removes everything it made
# The pieces: etcd, containerd, runc and the CNI plugins from Debian (installed when missing); kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and CoreDNS built from Go modules (scripts/kubernetes-cluster/build.sh);
# a pause image compiled from Kubernetes' pause.c. Root is needed. docs/kubernetes.md tells what runs and why.
#   DDPSIM_KUBERNETES_DIR     the cluster's folder (default /var/lib/ddpsim-kubernetes; removed by down)
#   DDPSIM_KUBERNETES_IMAGES  images up imports (default ddpsim-cpu:latest; "" for none)
#   DDPSIM_KUBERNETES_VOLUMES how many PersistentVolumes the storage class has (default 16)
case "${1:-}" in -h|--help|"") sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)/kubernetes-cluster"
verb="$1"
shift
case "$verb" in
  up) exec bash "$here/up.sh" "$@" ;;
  down) exec bash "$here/down.sh" "$@" ;;
  load) exec bash "$here/load.sh" "$@" ;;
  env)
    source "$here/common.sh"
    [ -f "$kubeconfig" ] || die "no cluster: $kubeconfig is missing; run: kubernetes-cluster.sh up"
    echo "export KUBECONFIG=$kubeconfig"
    ;;
  *) echo "kubernetes-cluster.sh: unknown verb $verb (up, down, load or env)" >&2; exit 2 ;;
esac
