/**
 * The stack program (index.ts) with `ddpsim:target`: kubernetes declares DdpKubernetesJob from the same config that
 * declares DdpCluster on docker, refuses what has no meaning there, and runs the same torchrun command, script
 * arguments and run-contract variables on both targets, addresses aside.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { defaultOwner, identityTag } from "../../../components";
import { expandKubernetes } from "../../../components/targets/indexedTemplate";
import { readStackFiles } from "../../../scripts/stackFiles";
import { splitNodeCommand } from "../../support/nodeCommand";
import { RegisteredResource, runStackProgram, useMocks } from "../../support/pulumiMocks";
import { REPO_ROOT } from "../../support/stackFiles";

const program = path.join(REPO_ROOT, "index.ts");
const JOB = `ddpsim-k8s-ddp-${identityTag(defaultOwner(), "ddpsim", "k8s", "ddp")}`;
const KUBERNETES = ["ddpsim:target: kubernetes", "ddpsim:imageMode: registry", "ddpsim:image: ghcr.io/acme/train:1"];

/** The stack's config as the Pulumi CLI hands it to the program: Pulumi.yaml's defaults, then the stack file. */
function cliConfig(lines: string[], stack = "k8s"): Record<string, string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-stack-"));
    try {
        const file = path.join(dir, `Pulumi.${stack}.yaml`);
        fs.writeFileSync(file, `config:\n${lines.map((l) => `  ${l}`).join("\n")}\n`);
        const files = readStackFiles(REPO_ROOT, stack, file);
        return Object.fromEntries(Object.entries(files.config).map(([k, v]) => [`ddpsim:${k}`, v]));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function up(lines: string[], stack = "k8s", secretKeys: string[] = []) {
    const registered = await useMocks(cliConfig(lines, stack), { stack, secretKeys });
    const outputs = await runStackProgram(program);
    return { registered, outputs };
}

const types = (registered: RegisteredResource[]) => registered.map((r) => r.type).filter((t) => t !== "pulumi:pulumi:Stack").sort();

describe("the stack program with ddpsim:target kubernetes", function () {
    this.timeout(30_000);

    it("declares DdpKubernetesJob (claim, Service, node files, Job) and reports the outputs both targets have, and its own", async () => {
        const { registered, outputs } = await up([...KUBERNETES, "ddpsim:nodes: 3", "ddpsim:namespace: ml"]);
        assert.deepStrictEqual(types(registered), [
            "ddpsim:index:DdpKubernetesJob",
            "kubernetes:batch/v1:Job",
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:PersistentVolumeClaim",
            "kubernetes:core/v1:Service",
        ]);
        assert.deepStrictEqual(outputs, {
            target: "kubernetes",
            masterEndpoint: `${JOB}-0.${JOB}:29500`,
            nodes: [0, 1, 2].map((rank) => ({ rank, hostname: `${JOB}-${rank}`, address: `${JOB}-${rank}.${JOB}` })),
            checkpointVolumeName: `${JOB}-checkpoints`,
            logsCommand: `kubectl logs -n ml -l ddpsim.job=${JOB} --prefix -f --tail=-1 --max-log-requests=5`,
            jobName: JOB,
            serviceName: JOB,
            kubernetesNamespace: "ml",
            // and none of Docker's own outputs (not even undefined ones, which Pulumi warns about)
        });
    });

    it("keeps a secret ddpsim:env secret: a Secret the pods reference", async () => {
        const { registered } = await up([...KUBERNETES, "ddpsim:env: {HF_TOKEN: hf_s3cr3t}"], "k8s", ["ddpsim:env"]);
        const job = registered.find((r) => r.type === "kubernetes:batch/v1:Job")!;
        assert.ok(registered.some((r) => r.type === "kubernetes:core/v1:Secret"));
        assert.ok(!JSON.stringify(job.inputs).includes("hf_s3cr3t"));
    });

    const refused: [string, string[], string[]][] = [
        [
            "a stack left with Docker's image mode (Pulumi.yaml's default), GPU ids and a code folder",
            ["ddpsim:target: kubernetes", "ddpsim:gpusPerNode: 1", 'ddpsim:gpuIds: ["0"]', "ddpsim:codeDir: training"],
            [
                'ddpsim:gpuIds cannot be used with target "kubernetes": the scheduler picks each pod\'s GPUs, and gpusPerNode says how many (the nvidia.com/gpu limit); remove gpuIds, got ["0"]',
                'ddpsim:imageMode cannot be used with target "kubernetes" as "local", an image of the Docker host, which the cluster\'s nodes cannot see: set imageMode to "registry" and image to a reference the cluster can pull (on kind or k3d, load it into the nodes first: kind load docker-image, k3d image import), got "local"',
                'ddpsim:codeDir cannot be used with target "kubernetes": it is a folder of the Docker host, bind-mounted at /code, and a pod mounts no host folders; put the code at /code in the image (COPY <codeDir> /code) and remove codeDir, got "training"',
            ],
        ],
        [
            "a shaped link and a bad toleration",
            [...KUBERNETES, "ddpsim:interconnect: 1gbe", 'ddpsim:tolerations: ["gpu:Never"]'],
            [
                'ddpsim:interconnect cannot be used with target "kubernetes": the pods talk over the cluster\'s network, which ddpsim does not shape (tc would need NET_ADMIN in every pod); set it to "ideal" or remove it, got "1gbe"',
                'ddpsim:tolerations must list tolerations as KEY[=VALUE][:EFFECT] (e.g. "nvidia.com/gpu:NoSchedule"; EFFECT one of NoSchedule, PreferNoSchedule, NoExecute), got ["gpu:Never"]',
            ],
        ],
        ["an unknown target", ["ddpsim:target: k8s"], ['ddpsim:target must be one of "docker", "kubernetes", got "k8s"']],
        [
            "a Kubernetes key on a Docker stack",
            ["ddpsim:namespace: ml"],
            ['ddpsim:namespace is a setting of target "kubernetes", and this stack\'s target is "docker": set target to "kubernetes", or remove it, got "ml"'],
        ],
    ];
    for (const [title, lines, reasons] of refused) {
        it(`refuses ${title}, naming each key, before any resource`, async () => {
            const registered = await useMocks(cliConfig(lines), { stack: "k8s" });
            await assert.rejects(runStackProgram(program), (err: unknown) => {
                assert.ok(pulumi.InputPropertiesError.isInstance(err) && pulumi.RunError.isInstance(err), `got ${err}`);
                assert.strictEqual(err.message, ['Invalid stack config for stack "k8s":', ...reasons.map((r) => `  - ${r}`)].join("\n"));
                return true;
            });
            assert.deepStrictEqual(registered, []);
        });
    }
});

describe("the same run on Docker and on Kubernetes (index.ts, both targets)", function () {
    this.timeout(60_000);
    const COMMON = [
        "ddpsim:imageMode: registry",
        "ddpsim:image: ghcr.io/acme/train:1",
        "ddpsim:procsPerNode: 2",
        'ddpsim:scriptArgs: ["--epochs", "3", "--note", "cost $5"]',
        'ddpsim:torchrunArgs: ["--rdzv-conf", "join_timeout=900"]',
        "ddpsim:checkpointDirArg: --save-dir",
        "ddpsim:env: {NCCL_DEBUG: INFO}",
        "ddpsim:maxRestarts: 2",
        "ddpsim:failFastExitCodes: [2, 3, 17]",
    ];
    /** Addresses differ by design: Docker names a node `ddp-node-07` on its own network, Kubernetes `<job>-7.<job>`. */
    const ADDRESS_VARIABLES = ["DDPSIM_NODE", "MASTER_ADDR", "PET_MASTER_ADDR"];
    const withoutAddresses = (env: Record<string, string>) =>
        Object.fromEntries(Object.entries(env).map(([k, v]) => [k, ADDRESS_VARIABLES.includes(k) ? "<address>" : v]));
    const torchrunWithoutAddress = (argv: string[]) => argv.map((w, i) => (argv[i - 1] === "--rdzv-endpoint" ? "<address>" : w));

    for (const nodes of [2, 12]) {
        it(`gives node i the same torchrun command, script arguments, variables and rank on both, ${nodes} nodes`, async () => {
            const docker = await up([...COMMON, `ddpsim:nodes: ${nodes}`], "k8s");
            const containers = docker.registered.filter((r) => r.type === "docker:index/container:Container");
            const kubernetes = await up([...COMMON, `ddpsim:nodes: ${nodes}`, "ddpsim:target: kubernetes"], "k8s");
            const pod = kubernetes.registered.find((r) => r.type === "kubernetes:batch/v1:Job")!.inputs.spec.template.spec;
            const container = pod.containers[0];
            assert.strictEqual(containers.length, nodes);

            containers.forEach((c, i) => {
                const onDocker = splitNodeCommand(c.inputs.command);
                const dockerEnv = Object.fromEntries(c.inputs.envs.map((e: string) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
                const vars = { JOB_COMPLETION_INDEX: String(i), DDPSIM_RUN_ID: "uid" };
                const k8sWords = container.command.slice(3).map((w: string) => expandKubernetes(w, vars));
                const onKubernetes = splitNodeCommand(k8sWords);
                const k8sEnv = Object.fromEntries(
                    container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, expandKubernetes(e.value, vars)]),
                );
                // The torchrun command line, with the script and its arguments: one and the same.
                assert.deepStrictEqual(torchrunWithoutAddress(onKubernetes.torchrun), torchrunWithoutAddress(onDocker.torchrun));
                assert.deepStrictEqual(onDocker.torchrun.slice(-9), [
                    "--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=3,join_timeout=900", "/code/train_ddp.py", "--epochs", "3", "--note", "cost $5", "--save-dir", "/checkpoints",
                ]);
                // The run contract: the same variables, values and order; both targets add their own DDPSIM_RUN_ID.
                const { DDPSIM_RUN_ID: runId, ...dockerContract } = dockerEnv;
                assert.deepStrictEqual(Object.keys(withoutAddresses(k8sEnv)), Object.keys(dockerContract));
                assert.deepStrictEqual(withoutAddresses(k8sEnv), withoutAddresses(dockerContract));
                assert.ok(runId !== undefined && container.env.at(-1).name === "DDPSIM_RUN_ID");
                // The rank is the node's on both: NODE_RANK, the agent's rank, and (Kubernetes) the Job's index.
                assert.deepStrictEqual([dockerEnv.NODE_RANK, k8sEnv.NODE_RANK, onDocker.config.rank, onKubernetes.config.rank], [String(i), String(i), i, i]);
                // The node agent's policy: the same, where Kubernetes adds the state folder on the run volume and the
                // exit code of a stopped node (a Job counts exit 0 as done).
                const { node: dockerNode, ...dockerPolicy } = onDocker.config as any;
                const { node: k8sNode, stateDir, stopExitCode, ...k8sPolicy } = onKubernetes.config as any;
                assert.deepStrictEqual(k8sPolicy, dockerPolicy);
                assert.strictEqual(dockerPolicy.stopExitCode, undefined);
                assert.deepStrictEqual([dockerNode, k8sNode, stateDir, stopExitCode], [dockerEnv.DDPSIM_NODE, k8sEnv.DDPSIM_NODE, `/workspace/.ddpsim/uid/node-${i}`, 143]);
            });
            // Docker's host names sort in rank order (zero-padded); the pods' names do not past ten nodes, which is why
            // their rendezvous names come from training/indexed_node.py (tests/unit/kubernetes/indexedNode.test.ts).
            const dockerHosts = containers.map((c) => c.inputs.hostname as string);
            assert.deepStrictEqual([...dockerHosts].sort(), dockerHosts);
            const podHosts = containers.map((_, i) => `${JOB}-${i}`);
            assert.strictEqual(JSON.stringify([...podHosts].sort()) === JSON.stringify(podHosts), nodes <= 10);
        });
    }
});
