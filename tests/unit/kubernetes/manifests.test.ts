/**
 * The Kubernetes objects of a plan (components/targets/kubernetes.ts): exact objects for 1, 2 and 8 nodes, on CPU and
 * GPU, each valid against the Kubernetes API schema offline; the template expanded for pod i is node i.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ClusterPlan, identityTag, resolveClusterSpec } from "../../../components/plan";
import { expandKubernetes } from "../../../components/targets/indexedTemplate";
import {
    JobManifest,
    kubectlLogsCommand,
    kubernetesJobName,
    kubernetesManifests,
    labelValue,
    planForKubernetes,
} from "../../../components/targets/kubernetes";
import { resolveKubernetesSettings } from "../../../components/targets/kubernetesSettings";
import { assertValidKubernetes, kubernetesProblems } from "../../support/kubernetesSchema";
import { agentLabel, nodeFile } from "../../support/nodeCommand";

const IDENTITY = { owner: "ann", project: "ddpsim", stack: "dev", cluster: "ddp" };
const JOB = `ddpsim-dev-ddp-${identityTag("ann", "ddpsim", "dev", "ddp")}`;
const I = "$(JOB_COMPLETION_INDEX)";
const LABELS = { "ddpsim.owner": "ann", "ddpsim.project": "ddpsim", "ddpsim.stack": "dev", "ddpsim.cluster": "ddp", "ddpsim.job": JOB };
/** The node files on Kubernetes: the agent and the pod's prelude, in one ConfigMap mounted at /opt/ddpsim. */
const FILES = ["node_agent.py", "indexed_node.py"];

function plan(raw: Record<string, unknown>): ClusterPlan {
    const result = resolveClusterSpec(raw, "/srv/ddpsim");
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return planForKubernetes(result.spec, IDENTITY);
}

function manifests(raw: Record<string, unknown>, settings: Record<string, unknown> = {}) {
    const read = resolveKubernetesSettings(settings);
    assert.deepStrictEqual(read.errors, []);
    return kubernetesManifests(plan(raw), read.settings);
}

function torchrun(nodes: number, procs: number): string[] {
    return [
        "torchrun",
        "--nnodes", String(nodes),
        "--nproc-per-node", String(procs),
        "--rdzv-backend", "c10d",
        "--rdzv-endpoint", `${JOB}-0.${JOB}:29500`,
        "--rdzv-id", JOB,
        "--max-restarts", "3",
        "--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=3",
        "/code/train_ddp.py",
    ];
}

function env(nodes: number, procs: number) {
    const value = (name: string, v: string) => ({ name, value: v });
    return [
        { name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
        value("PYTHONUNBUFFERED", "1"),
        value("PYTHONDONTWRITEBYTECODE", "1"),
        value("PYTHONPATH", "/code"),
        value("NCCL_SOCKET_IFNAME", "eth0"),
        value("GLOO_SOCKET_IFNAME", "eth0"),
        value("TORCH_DISABLE_SHARE_RDZV_TCP_STORE", "1"),
        value("DDPSIM_PROJECT", "ddpsim"),
        value("DDPSIM_STACK", "dev"),
        value("DDPSIM_CLUSTER", "ddp"),
        value("DDPSIM_NODE", nodes > 1 ? `${JOB}-${I}` : `${JOB}-0`),
        value("DDPSIM_NODE_RANK", nodes > 1 ? I : "0"),
        value("DDPSIM_NODES", String(nodes)),
        value("DDPSIM_PROCS_PER_NODE", String(procs)),
        value("DDPSIM_WORK_DIR", "/workspace"),
        value("DDPSIM_CODE_DIR", "/code"),
        value("DDPSIM_CHECKPOINT_DIR", "/checkpoints"),
        value("DDPSIM_COLLECTIVE_TIMEOUT_SECONDS", "30"),
        value("NODE_RANK", nodes > 1 ? I : "0"),
        value("NNODES", String(nodes)),
        value("MASTER_ADDR", `${JOB}-0.${JOB}`),
        value("MASTER_PORT", "29500"),
        value("PET_NNODES", String(nodes)),
        value("PET_NPROC_PER_NODE", String(procs)),
        value("PET_NODE_RANK", nodes > 1 ? I : "0"),
        value("PET_MASTER_ADDR", `${JOB}-0.${JOB}`),
        value("PET_MASTER_PORT", "29500"),
        { name: "DDPSIM_RUN_ID", valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" } } },
    ];
}

function command(nodes: number, procs: number, gpus: number): string[] {
    const index = nodes > 1 ? I : "0";
    const nccl = gpus > 0 ? `,"ncclSockets":{"env":{"NCCL_NSOCKS_PERTHREAD":"2","NCCL_SOCKET_NTHREADS":"4","NCCL_MIN_NCHANNELS":"4"},"minCpus":16}` : "";
    const config =
        `{"node":"${JOB}-${index}","rank":${index},"controlDir":"/workspace/.ddpsim","graceSeconds":60,` +
        `"failFastExitCodes":[2,3],"failFastRepeats":2${nccl},"stateDir":"/workspace/.ddpsim/$(DDPSIM_RUN_ID)/node-${index}","stopExitCode":143}`;
    return [
        "python3", "/opt/ddpsim/indexed_node.py", `{"address":"${JOB}-{index}.${JOB}","nodes":${nodes},"dnsWaitSeconds":300}`,
        "python3", "/opt/ddpsim/node_agent.py", config,
        ...torchrun(nodes, procs),
    ];
}

function expectedJob(nodes: number, gpus: number): JobManifest {
    const procs = Math.max(gpus, 1);
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: JOB, labels: LABELS },
        spec: {
            completionMode: "Indexed",
            completions: nodes,
            parallelism: nodes,
            backoffLimit: 5,
            podFailurePolicy: {
                rules: [
                    { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
                    { action: "FailJob", onExitCodes: { containerName: "node", operator: "In", values: [2, 3] } },
                ],
            },
            template: {
                metadata: { labels: { ...LABELS, "ddpsim.nodes": String(nodes), "ddpsim.agent": agentLabel(FILES), "ddpsim.job": JOB } },
                spec: {
                    subdomain: JOB,
                    restartPolicy: "Never",
                    terminationGracePeriodSeconds: 60,
                    enableServiceLinks: false,
                    automountServiceAccountToken: false,
                    containers: [
                        {
                            name: "node",
                            image: "ghcr.io/acme/train:1",
                            imagePullPolicy: "IfNotPresent",
                            command: command(nodes, procs, gpus),
                            workingDir: "/workspace",
                            env: env(nodes, procs),
                            ports: [{ name: "rendezvous", containerPort: 29500, protocol: "TCP" }],
                            ...(gpus > 0 ? { resources: { limits: { "nvidia.com/gpu": String(gpus) } } } : {}),
                            securityContext: {
                                allowPrivilegeEscalation: false,
                                capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER"] },
                            },
                            volumeMounts: [
                                { name: "ddpsim-files", mountPath: "/opt/ddpsim", readOnly: true },
                                { name: "workspace", mountPath: "/workspace" },
                                { name: "workspace", mountPath: "/checkpoints" },
                                { name: "shm", mountPath: "/dev/shm" },
                            ],
                        },
                    ],
                    volumes: [
                        { name: "ddpsim-files", configMap: { name: `${JOB}-files` } },
                        { name: "workspace", persistentVolumeClaim: { claimName: `${JOB}-checkpoints` } },
                        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "2048Mi" } },
                    ],
                },
            },
        },
    };
}

const SERVICE = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: JOB, labels: LABELS },
    spec: {
        clusterIP: "None",
        publishNotReadyAddresses: true,
        selector: { "ddpsim.job": JOB },
        ports: [{ name: "rendezvous", port: 29500, targetPort: 29500, protocol: "TCP" }],
    },
};

const CONFIG_MAP = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `${JOB}-files`, labels: LABELS },
    data: Object.fromEntries(FILES.map((name) => [name, fs.readFileSync(nodeFile(name).source, "utf8")])),
};

const CLAIM = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: `${JOB}-checkpoints`, labels: LABELS },
    spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "10Gi" } } },
};

describe("the Kubernetes objects of a plan (components/targets/kubernetes.ts)", () => {
    for (const nodes of [1, 2, 8]) {
        for (const gpus of [0, 1, 4]) {
            it(`declares a claim, the node files, a headless Service and an Indexed Job for ${nodes} node(s) with ${gpus} GPU(s) each, all valid`, () => {
                const objects = manifests({ nodes, gpusPerNode: gpus, image: "ghcr.io/acme/train:1" });
                assert.deepStrictEqual(objects, { checkpoints: CLAIM, files: CONFIG_MAP, service: SERVICE, job: expectedJob(nodes, gpus) });
                for (const object of Object.values(objects)) assertValidKubernetes(object);
            });
        }
    }

    it("expanded for index i, the template is node i of the plan: its env and command, addresses included", () => {
        const p = plan({ nodes: 12, image: "ghcr.io/acme/train:1" });
        const container = kubernetesManifests(p, resolveKubernetesSettings({}).settings).job.spec!.template.spec!.containers[0];
        p.nodes.forEach((node, i) => {
            const vars = { JOB_COMPLETION_INDEX: String(i), DDPSIM_RUN_ID: "uid-1" };
            const values = container.env!.filter((e) => e.value !== undefined).map((e) => [e.name, expandKubernetes(e.value!, vars)]);
            assert.deepStrictEqual(Object.fromEntries(values), node.env);
            const words = container.command!.slice(3).map((w) => expandKubernetes(w, vars));
            const config = JSON.parse(words[2]);
            assert.deepStrictEqual(config, { ...JSON.parse(node.command[2]), stateDir: `/workspace/.ddpsim/uid-1/node-${i}`, stopExitCode: 143 });
            assert.deepStrictEqual([...words.slice(0, 2), ...words.slice(3)], [...node.command.slice(0, 2), ...node.command.slice(3)]);
            assert.strictEqual(node.hostname, `${JOB}-${i}`);
        });
    });

    it("carries the settings: namespace, pull secrets, node selector, tolerations, service account, claim, user, dataset", () => {
        const objects = manifests(
            { nodes: 2, gpusPerNode: 1, image: "ghcr.io/acme/train:1", user: "1000:1000", datasetVolume: "corpus-v1", dataDirArg: "--data", shmSizeMb: 8192, stopGraceSeconds: 120, restartRetries: 0, failFastExitCodes: [] },
            {
                namespace: "ml",
                imagePullSecrets: ["regcred"],
                nodeSelector: { "nvidia.com/gpu.present": "true" },
                tolerations: ["nvidia.com/gpu:NoSchedule"],
                serviceAccountName: "trainer",
                checkpointStorageClass: "efs-sc",
                checkpointSize: "100Gi",
                checkpointAccessMode: "ReadWriteOnce",
            },
        );
        for (const object of Object.values(objects)) {
            assert.strictEqual(object.metadata!.namespace, "ml");
            assertValidKubernetes(object);
        }
        assert.deepStrictEqual(objects.checkpoints.spec, {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "efs-sc",
            resources: { requests: { storage: "100Gi" } },
        });
        const jobSpec = objects.job.spec!;
        assert.strictEqual(jobSpec.backoffLimit, 0);
        assert.deepStrictEqual(jobSpec.podFailurePolicy, { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] }] });
        const pod = jobSpec.template.spec!;
        assert.deepStrictEqual(
            [pod.serviceAccountName, pod.automountServiceAccountToken, pod.imagePullSecrets, pod.nodeSelector, pod.tolerations, pod.securityContext, pod.terminationGracePeriodSeconds],
            [
                "trainer",
                undefined,
                [{ name: "regcred" }],
                { "nvidia.com/gpu.present": "true" },
                [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
                { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch" },
                120,
            ],
        );
        const container = pod.containers[0];
        assert.deepStrictEqual(container.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        assert.deepStrictEqual(pod.volumes, [
            { name: "ddpsim-files", configMap: { name: `${JOB}-files` } },
            { name: "workspace", persistentVolumeClaim: { claimName: `${JOB}-checkpoints` } },
            { name: "dataset", persistentVolumeClaim: { claimName: "corpus-v1", readOnly: true } },
            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "8192Mi" } },
        ]);
        assert.deepStrictEqual(container.volumeMounts!.slice(3), [
            { name: "dataset", mountPath: "/data", readOnly: true },
            { name: "shm", mountPath: "/dev/shm" },
        ]);
        assert.deepStrictEqual(container.env!.find((e) => e.name === "DDPSIM_DATA_DIR"), { name: "DDPSIM_DATA_DIR", value: "/data" });
        assert.deepStrictEqual(container.command!.slice(-2), ["--data", "/data"]);
    });

    it("names the claim checkpointVolumeName when given, and writes a script's $ literally", () => {
        const objects = manifests({ checkpointVolumeName: "runs-a", env: { PROMPT: "cost $5 $(HOME)" }, scriptArgs: ["--tag", "$(x)"] });
        assert.strictEqual(objects.checkpoints.metadata!.name, "runs-a");
        const container = objects.job.spec!.template.spec!.containers[0];
        assert.deepStrictEqual(container.env!.find((e) => e.name === "PROMPT"), { name: "PROMPT", value: "cost $$5 $$(HOME)" });
        assert.deepStrictEqual(container.command!.slice(-2), ["--tag", "$$(x)"]);
    });

    it("refuses a node plan field it does not translate, rather than dropping it", () => {
        const p = plan({});
        (p.nodes[1] as any).sysctls = { "net.core.somaxconn": "1024" };
        assert.throws(() => kubernetesManifests(p, resolveKubernetesSettings({}).settings), /does not translate the node plan field\(s\): sysctls/);
    });

    it("refuses a node whose mounts, user or working directory differ from node 0's: the pods share one template", () => {
        const p = plan({ nodes: 3 });
        (p.nodes[2] as any).workingDir = "/elsewhere";
        assert.throws(() => kubernetesManifests(p, resolveKubernetesSettings({}).settings), /cannot give node 2 its own workingDir/);
    });

    const names: [typeof IDENTITY, string][] = [
        [IDENTITY, JOB],
        [{ owner: "ann", project: "My_Proj", stack: "Team.Dev", cluster: "DDP" }, `my-proj-team-dev-ddp-${identityTag("ann", "My_Proj", "Team.Dev", "DDP")}`],
        [{ owner: "ann", project: "9lives", stack: "dev", cluster: "ddp" }, `lives-dev-ddp-${identityTag("ann", "9lives", "dev", "ddp")}`],
        [{ owner: "ann", project: "p".repeat(80), stack: "dev", cluster: "ddp" }, `${"p".repeat(52)}-${identityTag("ann", "p".repeat(80), "dev", "ddp")}`],
    ];
    for (const [identity, expected] of names) {
        it(`names the Job of ${identity.project}/${identity.stack}/${identity.cluster} ${expected}: a DNS label, with room for -255`, () => {
            assert.strictEqual(kubernetesJobName(identity), expected);
            assert.ok(`${expected}-255`.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(expected));
        });
    }

    const values: [string, string][] = [
        ["ann", "ann"],
        ["DOMAIN\\ann", "DOMAIN-ann"],
        ["ann@example.com", "ann-example.com"],
        ["-x-", "x"],
        ["a".repeat(70), "a".repeat(63)],
    ];
    for (const [value, expected] of values) {
        it(`writes the label value ${JSON.stringify(value)} as ${JSON.stringify(expected)}`, () => assert.strictEqual(labelValue(value), expected));
    }

    it("follows every pod's log with kubectl, from the start, past kubectl's 5 streams", () => {
        assert.strictEqual(kubectlLogsCommand("", "j", 2), "kubectl logs -l ddpsim.job=j --prefix -f --tail=-1 --max-log-requests=5");
        assert.strictEqual(kubectlLogsCommand("ml", "j", 12), "kubectl logs -n ml -l ddpsim.job=j --prefix -f --tail=-1 --max-log-requests=12");
    });
});

describe("the offline schema check (tests/support/kubernetesSchema.ts)", () => {
    const good = () => JSON.parse(JSON.stringify(manifests({ nodes: 2, image: "ghcr.io/acme/train:1" })));
    const broken: [string, (m: any) => any, RegExp][] = [
        ["a count as text", (m) => ((m.job.spec.completions = "2"), m.job), /schema: data\/spec\/completions must be integer/],
        ["no containers", (m) => (delete m.job.spec.template.spec.containers, m.job), /must have required property containers/],
        ["an unknown completion mode", (m) => ((m.job.spec.completionMode = "indexed"), m.job), /completionMode must be equal to one of the allowed values/],
        ["a restart policy podFailurePolicy forbids", (m) => ((m.job.spec.template.spec.restartPolicy = "OnFailure"), m.job), /podFailurePolicy: needs restartPolicy Never/],
        ["a mount of no volume", (m) => (m.job.spec.template.spec.volumes.pop(), m.job), /mounts an unknown volume shm/],
        ["a name too long for the pods' host names", (m) => ((m.job.metadata.name = "j".repeat(62)), m.job), /host name j+-1 exceeds 63 characters/],
        ["an upper-case name", (m) => ((m.service.metadata.name = "Trainers"), m.service), /metadata.name: "Trainers" is not a DNS subdomain/],
        ["a bad label value", (m) => ((m.checkpoints.metadata.labels["ddpsim.owner"] = "ann@x"), m.checkpoints), /bad label value "ann@x"/],
        ["an access mode outside a list", (m) => ((m.checkpoints.spec.accessModes = "ReadWriteMany"), m.checkpoints), /schema: data\/spec\/accessModes must be array/],
    ];
    for (const [title, breakIt, message] of broken) {
        it(`catches ${title}`, () => {
            const object = breakIt(good());
            assert.match(kubernetesProblems(object).join("\n"), message);
            assert.throws(() => assertValidKubernetes(object));
        });
    }

    it("finds nothing wrong with the objects as written", () => {
        for (const object of Object.values(good())) assert.deepStrictEqual(kubernetesProblems(object), []);
    });
});

// Unknown fields are caught when the builder compiles (`tsc -p tests/tsconfig.json`, part of `npm test`): the
// manifests are typed by the API. If this field were accepted, the unused directive itself would fail to compile.
export const misspelt: JobManifest = {
    apiVersion: "batch/v1",
    kind: "Job",
    spec: {
        template: {},
        // @ts-expect-error a misspelt field of the Job spec does not compile
        completionz: 2,
    },
};
