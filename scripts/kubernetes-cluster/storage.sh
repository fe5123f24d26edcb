# Sourced by up.sh: readiness checks and the storage the run-volume claims bind to.
node_ready() {
  api GET "/api/v1/nodes/$node_name" | jq -e '.status.conditions[] | select(.type == "Ready") | .status == "True"' | grep -q true
}

dns_answers() { curl -sf http://127.0.0.1:18181/ready; } # CoreDNS's ready plugin: its kubernetes plugin has synced

default_service_account() { api GET /api/v1/namespaces/default/serviceaccounts/default; }

# No provisioner image can be pulled here, so the storage class is a static one (no-provisioner, the cluster's
# default) with a pool of host folders as PersistentVolumes, each ReadWriteMany and ReadWriteOnce (one node: every pod
# sees the same folder). A claim without a class gets this one; the volumes are kept (Retain) when a claim is deleted.
# The folders are world-writable, as the local-path provisioner of kind and k3d makes them: a hostPath volume ignores
# fsGroup, and the pods run as the image's user (the CPU image's is 1000).
create_storage() {
  api POST /apis/storage.k8s.io/v1/storageclasses "$(jq -n --arg name "$storage_class" '{
    apiVersion: "storage.k8s.io/v1", kind: "StorageClass",
    metadata: {name: $name, annotations: {"storageclass.kubernetes.io/is-default-class": "true"}},
    provisioner: "kubernetes.io/no-provisioner", reclaimPolicy: "Retain", volumeBindingMode: "Immediate"}')" >/dev/null ||
    die "the API server refused the storage class $storage_class"
  local i
  for i in $(seq 0 $((volume_count - 1))); do
    mkdir -p "$state/volumes/volume-$i"
    chmod 0777 "$state/volumes/volume-$i"
    api POST /api/v1/persistentvolumes "$(jq -n --arg name "ddpsim-volume-$i" --arg class "$storage_class" \
      --arg path "$state/volumes/volume-$i" '{
      apiVersion: "v1", kind: "PersistentVolume", metadata: {name: $name},
      spec: {capacity: {storage: "100Gi"}, accessModes: ["ReadWriteMany", "ReadWriteOnce"], storageClassName: $class,
             persistentVolumeReclaimPolicy: "Retain", hostPath: {path: $path, type: "Directory"}}}')" >/dev/null ||
      die "the API server refused the volume ddpsim-volume-$i"
  done
}
