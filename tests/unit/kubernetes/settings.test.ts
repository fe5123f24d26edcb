import * as assert from "assert";
import { checkKubernetesArgs, parseToleration, resolveKubernetesSettings } from "../../../components/targets/kubernetesSettings";
import { readTarget, targetProblems } from "../../../components/targets/targetKeys";

const BASE = "/srv/ddpsim";

function errorsOf(raw: Record<string, unknown>): string[] {
    const checked = checkKubernetesArgs(raw, BASE);
    return checked.ok ? [] : checked.errors.map((e) => e.reason);
}

describe("keys with no meaning on Kubernetes (components/targets/targetKeys.ts)", () => {
    const refused: [Record<string, unknown>, string][] = [
        [
            { gpuIds: ["0", "1"] },
            'gpuIds cannot be used with target "kubernetes": the scheduler picks each pod\'s GPUs, and gpusPerNode says how many (the nvidia.com/gpu limit); remove gpuIds, got ["0","1"]',
        ],
        [
            { gpuSharing: true },
            'gpuSharing cannot be used with target "kubernetes": a pod\'s nvidia.com/gpu limit is whole GPUs of its own (sharing is the device plugin\'s time-slicing or MIG, set up on the cluster); remove it, got true',
        ],
        [
            { imageMode: "local" },
            'imageMode cannot be used with target "kubernetes" as "local", an image of the Docker host, which the cluster\'s nodes cannot see: set imageMode to "registry" and image to a reference the cluster can pull (on kind or k3d, load it into the nodes first: kind load docker-image, k3d image import), got "local"',
        ],
        [
            { imageMode: "build" },
            'imageMode cannot be used with target "kubernetes" as "build", which builds on the Docker host: build and push the image yourself, then set imageMode to "registry" and image to its reference, got "build"',
        ],
        [
            { codeDir: "training" },
            'codeDir cannot be used with target "kubernetes": it is a folder of the Docker host, bind-mounted at /code, and a pod mounts no host folders; put the code at /code in the image (COPY <codeDir> /code) and remove codeDir, got "training"',
        ],
        [
            { datasetDir: "/mnt/data" },
            'datasetDir cannot be used with target "kubernetes": it is a folder of the Docker host; set datasetVolume to the name of a PersistentVolumeClaim that holds the data (mounted read-only at /data), or put the data in the image, got "/mnt/data"',
        ],
        [
            { dockerHost: "ssh://gpu-box" },
            'dockerHost cannot be used with target "kubernetes": the cluster is the Kubernetes provider\'s (kubeconfig, or pulumi config set kubernetes:context NAME); remove it, got "ssh://gpu-box"',
        ],
        [
            { allowSystemPaths: true },
            'allowSystemPaths cannot be used with target "kubernetes": it only concerns folders of the Docker host, which a pod does not mount; remove it, got true',
        ],
        [
            { interconnect: "10gbe" },
            'interconnect cannot be used with target "kubernetes": the pods talk over the cluster\'s network, which ddpsim does not shape (tc would need NET_ADMIN in every pod); set it to "ideal" or remove it, got "10gbe"',
        ],
        [
            { linkBandwidthMbit: 100 },
            'linkBandwidthMbit cannot be used with target "kubernetes": it shapes the link between nodes with tc, and the pods of a cluster talk over its own network, which ddpsim does not shape; remove it, got 100',
        ],
        [
            { linkLatencyMs: 0.5 },
            'linkLatencyMs cannot be used with target "kubernetes": it shapes the link between nodes with tc, and the pods of a cluster talk over its own network, which ddpsim does not shape; remove it, got 0.5',
        ],
        [
            { linkJitterMs: 1 },
            'linkJitterMs cannot be used with target "kubernetes": it shapes the link between nodes with tc, and the pods of a cluster talk over its own network, which ddpsim does not shape; remove it, got 1',
        ],
        [
            { linkLossPercent: 0.1 },
            'linkLossPercent cannot be used with target "kubernetes": it shapes the link between nodes with tc, and the pods of a cluster talk over its own network, which ddpsim does not shape; remove it, got 0.1',
        ],
        [
            { user: "ddp" },
            'user cannot be used with target "kubernetes" as a name: a pod runs as numeric ids (runAsUser, runAsGroup); set user to uid or uid:gid, got "ddp"',
        ],
    ];
    for (const [raw, reason] of refused) {
        it(`refuses ${JSON.stringify(raw)} with what to do instead`, () => {
            assert.deepStrictEqual(errorsOf(raw), [reason]);
        });
    }

    it("refuses each key once, not again in the common checks (gpuIds [auto] would also fail there)", () => {
        const checked = checkKubernetesArgs({ gpuIds: ["auto"], gpusPerNode: 1, interconnect: "wan" }, BASE);
        assert.ok(!checked.ok);
        assert.deepStrictEqual(checked.errors.map((e) => e.propertyPath), ["gpuIds", "interconnect"]);
    });

    const accepted: Record<string, unknown>[] = [
        {},
        { gpuSharing: false, interconnect: "ideal", allowSystemPaths: false, imageMode: "registry" },
        { user: "1000" },
        { user: "1000:1000" },
        { imageContext: "training", imageDockerfile: "Dockerfile" }, // only read with imageMode build, as on Docker
    ];
    for (const raw of accepted) {
        it(`accepts ${JSON.stringify(raw)}: a default asks for nothing`, () => {
            assert.deepStrictEqual(errorsOf(raw), []);
        });
    }

    const onDocker: [Record<string, unknown>, string[]][] = [
        [{ namespace: "ml" }, ['namespace is a setting of target "kubernetes", and this stack\'s target is "docker": set target to "kubernetes", or remove it, got "ml"']],
        [{ tolerations: ["nvidia.com/gpu:NoSchedule"] }, ['tolerations is a setting of target "kubernetes", and this stack\'s target is "docker": set target to "kubernetes", or remove it, got ["nvidia.com/gpu:NoSchedule"]']],
        [{ checkpointSize: "10Gi", checkpointAccessMode: "ReadWriteMany" }, []],
        [{ checkpointSize: "50Gi" }, ['checkpointSize is a setting of target "kubernetes", and this stack\'s target is "docker": set target to "kubernetes", or remove it, got "50Gi"']],
    ];
    for (const [raw, reasons] of onDocker) {
        it(`on target docker, ${reasons.length > 0 ? "refuses" : "accepts"} ${JSON.stringify(raw)}`, () => {
            assert.deepStrictEqual(targetProblems("docker", raw).map((e) => e.reason), reasons);
        });
    }

    const targets: [unknown, unknown][] = [
        [undefined, { ok: true, target: "docker" }],
        ["docker", { ok: true, target: "docker" }],
        ["kubernetes", { ok: true, target: "kubernetes" }],
        ["k8s", { ok: false, error: { propertyPath: "target", reason: 'target must be one of "docker", "kubernetes", got "k8s"' } }],
    ];
    for (const [value, expected] of targets) {
        it(`reads target ${JSON.stringify(value)}`, () => assert.deepStrictEqual(readTarget(value), expected));
    }
});

describe("the Kubernetes target's own keys (components/targets/kubernetesSettings.ts)", () => {
    it("defaults to the provider's namespace, no secrets, no scheduling constraints, a 10Gi ReadWriteMany claim", () => {
        assert.deepStrictEqual(resolveKubernetesSettings({}), {
            settings: { imagePullSecrets: [], nodeSelector: {}, tolerations: [], checkpointSize: "10Gi", checkpointAccessMode: "ReadWriteMany" },
            errors: [],
        });
    });

    it("reads every key", () => {
        const raw = {
            namespace: "ml-team",
            imagePullSecrets: ["regcred"],
            nodeSelector: { "nvidia.com/gpu.present": "true", pool: "a100" },
            tolerations: ["nvidia.com/gpu:NoSchedule", "dedicated=ml:NoExecute", "spot"],
            serviceAccountName: "trainer",
            checkpointStorageClass: "efs-sc",
            checkpointSize: "500Gi",
            checkpointAccessMode: "ReadWriteOnce",
        };
        assert.deepStrictEqual(resolveKubernetesSettings(raw), {
            settings: {
                namespace: "ml-team",
                imagePullSecrets: ["regcred"],
                nodeSelector: { "nvidia.com/gpu.present": "true", pool: "a100" },
                tolerations: [
                    { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
                    { key: "dedicated", operator: "Equal", value: "ml", effect: "NoExecute" },
                    { key: "spot", operator: "Exists" },
                ],
                serviceAccountName: "trainer",
                checkpointStorageClass: "efs-sc",
                checkpointSize: "500Gi",
                checkpointAccessMode: "ReadWriteOnce",
            },
            errors: [],
        });
    });

    const invalid: [Record<string, unknown>, string][] = [
        [{ namespace: "ML_Team" }, 'namespace must be a namespace name (lower-case letters, digits and -, at most 63), got "ML_Team"'],
        [{ namespace: "" }, 'namespace must be a non-empty string, got ""'],
        [{ imagePullSecrets: ["Reg Cred"] }, 'imagePullSecrets must list Secret names (lower-case letters, digits, - and .), got ["Reg Cred"]'],
        [{ nodeSelector: { "gpu type": "a100" } }, 'nodeSelector must map node label keys to label values (e.g. {"nvidia.com/gpu.present": "true"}), got {"gpu type":"a100"}'],
        [{ nodeSelector: ["a=b"] }, 'nodeSelector must map node label keys to label values (e.g. {"nvidia.com/gpu.present": "true"}), got ["a=b"]'],
        [
            { tolerations: ["nvidia.com/gpu:NoScheduled"] },
            'tolerations must list tolerations as KEY[=VALUE][:EFFECT] (e.g. "nvidia.com/gpu:NoSchedule"; EFFECT one of NoSchedule, PreferNoSchedule, NoExecute), got ["nvidia.com/gpu:NoScheduled"]',
        ],
        [{ serviceAccountName: "Trainer" }, 'serviceAccountName must be a ServiceAccount name (lower-case letters, digits, - and .), got "Trainer"'],
        [{ checkpointStorageClass: "efs_sc" }, 'checkpointStorageClass must be a StorageClass name (lower-case letters, digits, - and .), got "efs_sc"'],
        [{ checkpointSize: "10GB" }, 'checkpointSize must be a storage size such as "10Gi" or "500Mi", got "10GB"'],
        [{ checkpointSize: "0" }, 'checkpointSize must be a storage size such as "10Gi" or "500Mi", got "0"'],
        [{ checkpointAccessMode: "ReadWriteOncePod" }, 'checkpointAccessMode must be one of "ReadWriteMany", "ReadWriteOnce", got "ReadWriteOncePod"'],
        [{ checkpointVolumeName: "My_Checkpoints" }, 'checkpointVolumeName must be a PersistentVolumeClaim name on Kubernetes (lower-case letters, digits, - and .), got "My_Checkpoints"'],
        [{ datasetVolume: "Corpus_v1" }, 'datasetVolume must be a PersistentVolumeClaim name on Kubernetes (lower-case letters, digits, - and .), got "Corpus_v1"'],
    ];
    for (const [raw, reason] of invalid) {
        it(`refuses ${JSON.stringify(raw)}`, () => {
            assert.deepStrictEqual(resolveKubernetesSettings(raw).errors.map((e) => e.reason), [reason]);
        });
    }

    const tolerations: [string, unknown][] = [
        ["nvidia.com/gpu", { key: "nvidia.com/gpu", operator: "Exists" }],
        ["nvidia.com/gpu=present", { key: "nvidia.com/gpu", operator: "Equal", value: "present" }],
        ["a=:NoSchedule", { key: "a", operator: "Equal", value: "", effect: "NoSchedule" }],
        ["key:PreferNoSchedule", { key: "key", operator: "Exists", effect: "PreferNoSchedule" }],
        [":NoSchedule", undefined],
        ["a b", undefined],
        ["a=b=c", undefined],
    ];
    for (const [text, expected] of tolerations) {
        it(`parses the toleration ${JSON.stringify(text)}`, () => assert.deepStrictEqual(parseToleration(text), expected));
    }
});
