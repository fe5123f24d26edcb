#!/usr/bin/env bash
# Takes the cluster down and leaves nothing behind: no process, mount, iptables rule, interface or file of its own;
# see kubernetes-cluster.sh. Safe to run when the cluster is down or half up.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
[ "$(id -u)" = 0 ] || die "run as root"
started="$(now_ms)"

stop_piece() { # piece [seconds]: TERM, then KILL after the grace
  local file="$state/pids/$1" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((${2:-10} * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# The kubelet tears each pod's network down (CNI DEL) as it stops it: every Job and pod is deleted while the kubelet
# and the controllers still run (the Job controller lifts its pods' finalizers, and nothing makes new ones).
if pid_alive kubelet && pid_alive kube-apiserver; then
  for ns in $(api GET /api/v1/namespaces 2>/dev/null | jq -r '.items[].metadata.name'); do
    api DELETE "/apis/batch/v1/namespaces/$ns/jobs?propagationPolicy=Background" >/dev/null 2>&1 || true
    api DELETE "/api/v1/namespaces/$ns/pods?gracePeriodSeconds=0" >/dev/null 2>&1 || true
  done
  for _ in $(seq 60); do
    [ "$(api GET /api/v1/pods 2>/dev/null | jq '.items | length')" = 0 ] && break
    sleep 1
  done
fi
stop_piece kube-controller-manager
stop_piece kube-scheduler
stop_piece kubelet
stop_piece coredns
stop_piece kube-apiserver
stop_piece etcd

# What the kubelet did not stop: every task and container of the cluster's containerd, then containerd itself.
if pid_alive containerd; then
  for task in $(ctr_k8s tasks ls -q 2>/dev/null); do
    ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
  done
  sleep 1
  for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks rm -f "$task" >/dev/null 2>&1 || true; done
  for container in $(ctr_k8s containers ls -q 2>/dev/null); do ctr_k8s containers rm "$container" >/dev/null 2>&1 || true; done
fi
stop_piece containerd
# containerd's shims outlive it by design; each names the cluster's socket on its command line.
for proc in /proc/[0-9]*; do
  if { tr '\0' ' ' <"$proc/cmdline"; } 2>/dev/null | grep -qF -- "-address $sock"; then kill -KILL "${proc#/proc/}" 2>/dev/null || true; fi
done

# Mounts under the cluster's folder (containers' root file systems, shm, network namespaces, volumes), deepest first.
mounts() { awk -v root="$state" 'index($5, root "/") == 1 || $5 == root {print $5}' /proc/self/mountinfo | sort -r; }
for _ in 1 2 3; do
  for m in $(mounts); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
done

chain="$(forward_chain)"
while iptables -S "$chain" 2>/dev/null | grep -q -- "--comment $rule_comment"; do
  rule="$(iptables -S "$chain" | grep -m1 -- "--comment $rule_comment" | sed 's/^-A /-D /')"
  eval "iptables $rule" || break
done
ip link show "$bridge" >/dev/null 2>&1 && ip link del "$bridge"
# The kubelet's links to the pods' logs point into the cluster's folder.
find /var/log/containers -maxdepth 1 -lname "$state/*" -delete 2>/dev/null || true
# libcni's cache of the pods' network results (its folder is fixed): the entries of the cluster's network "ddpsim".
rm -f /var/lib/cni/results/ddpsim-* 2>/dev/null || true
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
# Folders the kubelet makes at fixed places whatever its root: its device plugin socket, then each folder if empty.
rm -f /var/lib/kubelet/device-plugins/kubelet.sock
for dir in /var/lib/kubelet/device-plugins /var/lib/kubelet /usr/libexec/kubernetes/kubelet-plugins/volume/exec \
  /usr/libexec/kubernetes/kubelet-plugins/volume /usr/libexec/kubernetes/kubelet-plugins /usr/libexec/kubernetes /var/log/containers; do
  rmdir "$dir" 2>/dev/null || true
done
rm -rf "$state"

left=()
[ -z "$(mounts)" ] || left+=("mounts: $(mounts | tr '\n' ' ')")
ip link show "$bridge" >/dev/null 2>&1 && left+=("interface $bridge")
iptables -S "$chain" 2>/dev/null | grep -q -- "--comment $rule_comment" && left+=("iptables rules in $chain")
for proc in /proc/[0-9]*; do
  { tr '\0' ' ' <"$proc/cmdline"; } 2>/dev/null | grep -qF -- "$state" && left+=("process ${proc#/proc/}")
done
[ "${#left[@]}" -eq 0 ] || die "left behind: ${left[*]}"
say "down in $(since "$started"): no process, mount, rule or interface left"
