import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { ClusterPlan, identityTag, planCluster, resolveClusterSpec } from "../../components/plan";
import { defaultOwner } from "../../components/owner";
import { composeDocument, ComposeDocument, composeYaml } from "../../components/targets/compose";
import { main, planStack } from "../../scripts/compose";
import { readStackFiles } from "../../scripts/stackFiles";
import { agentLabel, nodeFile } from "../support/nodeCommand";
import { runStackProgram, useMocks } from "../support/pulumiMocks";

const root = path.resolve(__dirname, "..", "..");
const FILE_DIR = "/srv/ddpsim";

function plan(raw: Record<string, unknown>, stack = "dev"): ClusterPlan {
    const result = resolveClusterSpec(raw, FILE_DIR);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return planCluster(result.spec, { owner: "ann", project: "ddpsim", stack, cluster: "ddp" });
}

const LABELS = { "ddpsim.owner": "ann", "ddpsim.project": "ddpsim", "ddpsim.stack": "dev", "ddpsim.cluster": "ddp" };
/** Every host-level name starts with project-stack-cluster and a hash of the owner and those three. */
const PREFIX = `ddpsim-dev-ddp-${identityTag("ann", "ddpsim", "dev", "ddp")}`;
const PROBE = 'import socket; socket.create_connection(("127.0.0.1", 29500), timeout=2).close()';

function torchrun(nodes: number): string[] {
    return [
        "torchrun",
        "--nnodes", String(nodes),
        "--nproc-per-node", "1",
        "--rdzv-backend", "c10d",
        "--rdzv-endpoint", "ddp-node-0:29500",
        "--rdzv-id", PREFIX,
        "--max-restarts", "3",
        "--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=3",
        "/code/train_ddp.py",
    ];
}

/** The node command as Compose gets it: the node agent's file, its config, torchrun. */
function command(nodes: number, rank: number, gpu = false): string[] {
    const config = {
        node: `ddp-node-${rank}`, rank, controlDir: "/workspace/.ddpsim", graceSeconds: 60,
        failFastExitCodes: [2, 3], failFastRepeats: 2,
        ...(gpu ? { ncclSockets: { env: { NCCL_NSOCKS_PERTHREAD: "2", NCCL_SOCKET_NTHREADS: "4", NCCL_MIN_NCHANNELS: "4" }, minCpus: 16 } } : {}),
    };
    return ["python3", "/opt/ddpsim/node_agent.py", JSON.stringify(config), ...torchrun(nodes)];
}

function environment(rank: number, nodes: number): Record<string, string> {
    return {
        PYTHONUNBUFFERED: "1",
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONPATH: "/code",
        NCCL_SOCKET_IFNAME: "eth0",
        GLOO_SOCKET_IFNAME: "eth0",
        TORCH_DISABLE_SHARE_RDZV_TCP_STORE: "1",
        DDPSIM_PROJECT: "ddpsim",
        DDPSIM_STACK: "dev",
        DDPSIM_CLUSTER: "ddp",
        DDPSIM_NODE: `ddp-node-${rank}`,
        DDPSIM_NODE_RANK: String(rank),
        DDPSIM_NODES: String(nodes),
        DDPSIM_PROCS_PER_NODE: "1",
        DDPSIM_WORK_DIR: "/workspace",
        DDPSIM_CODE_DIR: "/code",
        DDPSIM_CHECKPOINT_DIR: "/checkpoints",
        DDPSIM_COLLECTIVE_TIMEOUT_SECONDS: "30",
        NODE_RANK: String(rank),
        NNODES: String(nodes),
        MASTER_ADDR: "ddp-node-0",
        MASTER_PORT: "29500",
        PET_NNODES: String(nodes),
        PET_NPROC_PER_NODE: "1",
        PET_NODE_RANK: String(rank),
        PET_MASTER_ADDR: "ddp-node-0",
        PET_MASTER_PORT: "29500",
    };
}

function nodeLabels(rank: number, nodes: number, gpus: string): Record<string, string> {
    return {
        ...LABELS,
        "ddpsim.rank": String(rank),
        "ddpsim.role": rank === 0 ? "master" : "worker",
        "ddpsim.node": `ddp-node-${rank}`,
        "ddpsim.nodes": String(nodes),
        "ddpsim.gpus": gpus,
        "ddpsim.agent": agentLabel(),
    };
}

const HEALTHCHECK = {
    test: ["CMD", "python3", "-c", PROBE],
    interval: "2s",
    timeout: "3s",
    start_period: "2s",
    retries: 60,
};

const NETWORKS = { cluster: { name: `${PREFIX}-net`, driver: "bridge" as const, labels: LABELS } };
const CHECKPOINTS = { name: `${PREFIX}-checkpoints`, external: false, labels: LABELS };
/** The node agent, bind-mounted read-only from this package (outside FILE_DIR: by its absolute path). */
const AGENT = { type: "bind" as const, source: nodeFile("node_agent.py").source, target: "/opt/ddpsim/node_agent.py", read_only: true as const };
const MOUNTS = [
    AGENT,
    { type: "bind" as const, source: "./training", target: "/code", read_only: true as const },
    { type: "volume" as const, source: "checkpoints", target: "/workspace" },
    { type: "volume" as const, source: "checkpoints", target: "/checkpoints" },
];
const COMMON = {
    working_dir: "/workspace",
    shm_size: "2048m",
    restart: "on-failure:5",
    stop_signal: "SIGTERM",
    stop_grace_period: "60s",
    cap_add: ["CHOWN", "DAC_OVERRIDE", "FOWNER"],
    cap_drop: ["ALL"],
    security_opt: ["no-new-privileges:true"],
};

describe("the Compose export (components/targets/compose.ts)", () => {
    it("writes the dev topology: 2 nodes, 1 GPU each by device id, node 1 started after node 0", () => {
        const doc = composeDocument(
            plan({ nodes: 2, gpusPerNode: 1, imageMode: "build", image: "ddpsim-train:dev", codeDir: "training", imageContext: "training" }),
            { fileDir: FILE_DIR },
        );
        const gpu = (id: string) => ({
            resources: { reservations: { devices: [{ driver: "nvidia", device_ids: [id], capabilities: ["gpu"] }] } },
        });
        const expected: ComposeDocument = {
            services: {
                "node-0": {
                    image: "ddpsim-train:dev",
                    build: { context: "./training", dockerfile: "Dockerfile" },
                    container_name: `${PREFIX}-node-0`,
                    hostname: "ddp-node-0",
                    command: command(2, 0, true),
                    ...COMMON,
                    environment: environment(0, 2),
                    volumes: MOUNTS,
                    networks: { cluster: { aliases: ["ddp-node-0"] } },
                    labels: nodeLabels(0, 2, "0"),
                    deploy: gpu("0"),
                    healthcheck: HEALTHCHECK,
                },
                "node-1": {
                    image: "ddpsim-train:dev",
                    container_name: `${PREFIX}-node-1`,
                    hostname: "ddp-node-1",
                    command: command(2, 1, true),
                    ...COMMON,
                    environment: environment(1, 2),
                    volumes: MOUNTS,
                    networks: { cluster: { aliases: ["ddp-node-1"] } },
                    labels: nodeLabels(1, 2, "1"),
                    deploy: gpu("1"),
                    depends_on: { "node-0": { condition: "service_started" } },
                },
            },
            networks: NETWORKS,
            volumes: { checkpoints: CHECKPOINTS },
        };
        assert.deepStrictEqual(doc, expected);
    });

    it("writes a CPU cluster of 3 nodes on a local image: no GPU, never pulled, workers after node 0", () => {
        const doc = composeDocument(plan({ nodes: 3, image: "ddpsim-cpu:latest", codeDir: "training" }), { fileDir: FILE_DIR });
        const worker = (rank: number) => ({
            image: "ddpsim-cpu:latest",
            pull_policy: "never" as const,
            container_name: `${PREFIX}-node-${rank}`,
            hostname: `ddp-node-${rank}`,
            command: command(3, rank),
            ...COMMON,
            environment: environment(rank, 3),
            volumes: MOUNTS,
            networks: { cluster: { aliases: [`ddp-node-${rank}`] } },
            labels: nodeLabels(rank, 3, ""),
            depends_on: { "node-0": { condition: "service_started" as const } },
        });
        const expected: ComposeDocument = {
            services: {
                "node-0": {
                    image: "ddpsim-cpu:latest",
                    pull_policy: "never",
                    container_name: `${PREFIX}-node-0`,
                    hostname: "ddp-node-0",
                    command: command(3, 0),
                    ...COMMON,
                    environment: environment(0, 3),
                    volumes: MOUNTS,
                    networks: { cluster: { aliases: ["ddp-node-0"] } },
                    labels: nodeLabels(0, 3, ""),
                    healthcheck: HEALTHCHECK,
                },
                "node-1": worker(1),
                "node-2": worker(2),
            },
            networks: NETWORKS,
            volumes: { checkpoints: CHECKPOINTS },
        };
        assert.deepStrictEqual(doc, expected);
    });

    it("mounts a dataset volume read-only as an external volume, and a dataset folder as a bind", () => {
        const withVolume = composeDocument(plan({ datasetVolume: "corpus-v1", codeDir: "training" }), { fileDir: FILE_DIR });
        assert.deepStrictEqual(withVolume.volumes.dataset, { name: "corpus-v1", external: true });
        assert.deepStrictEqual(withVolume.services["node-1"].volumes[4], {
            type: "volume", source: "dataset", target: "/data", read_only: true,
        });
        assert.strictEqual(withVolume.services["node-1"].environment.DDPSIM_DATA_DIR, "/data");

        const withDir = composeDocument(plan({ datasetDir: "/mnt/data", codeDir: "training" }), { fileDir: FILE_DIR });
        assert.strictEqual(withDir.volumes.dataset, undefined);
        assert.deepStrictEqual(withDir.services["node-0"].volumes[4], {
            type: "bind", source: "/mnt/data", target: "/data", read_only: true,
        });
    });

    it("keeps paths absolute without a file folder, and pulls registry images when missing", () => {
        const doc = composeDocument(plan({ imageMode: "registry", image: "ghcr.io/acme/train:1", codeDir: "training" }));
        assert.strictEqual(doc.services["node-0"].volumes[1].source, path.join(FILE_DIR, "training"));
        assert.deepStrictEqual(
            [doc.services["node-0"].image, doc.services["node-0"].pull_policy, doc.services["node-0"].build],
            ["ghcr.io/acme/train:1", "missing", undefined],
        );
    });

    it("escapes $ so that Compose passes values through instead of interpolating them", () => {
        const doc = composeDocument(plan({ env: { PROMPT: "cost $5" }, scriptArgs: ["--tag", "$HOME"] }));
        assert.strictEqual(doc.services["node-0"].environment.PROMPT, "cost $$5");
        assert.deepStrictEqual(doc.services["node-0"].command.slice(-2), ["--tag", "$$HOME"]);
    });

    it("keeps an interconnect profile: NET_ADMIN added, the agent's shaping config passed through", () => {
        const p = plan({ interconnect: "100mbit" });
        const doc = composeDocument(p);
        const node = doc.services["node-1"];
        assert.deepStrictEqual(node.cap_add, ["CHOWN", "DAC_OVERRIDE", "FOWNER", "NET_ADMIN", "SETPCAP", "SETUID", "SETGID"]);
        assert.deepStrictEqual(node.command.slice(0, 2), ["python3", "/opt/ddpsim/node_agent.py"]);
        assert.deepStrictEqual(node.command, p.nodes[1].command);
        assert.deepStrictEqual(JSON.parse(node.command[2]).shaping.commands[0].argv, [
            "tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "1:", "tbf", "rate", "100mbit", "burst", "100000", "latency", "50ms",
        ]);
    });

    it("refuses a node plan field it does not translate, rather than dropping it", () => {
        const p = plan({});
        (p.nodes[1] as any).sysctls = { "net.core.somaxconn": "1024" };
        assert.throws(() => composeDocument(p), /does not translate the node plan field\(s\): sysctls/);
    });

    it("writes YAML that reads back as the document, with the commands to run it", () => {
        const p = plan({ nodes: 2, codeDir: "training" });
        const doc = composeDocument(p, { fileDir: FILE_DIR });
        const text = composeYaml(p, doc, "Pulumi.dev.yaml");
        assert.deepStrictEqual(parse(text), JSON.parse(JSON.stringify(doc)));
        assert.match(text, /^# Generated by `npm run compose` from Pulumi.dev.yaml/);
        assert.ok(text.includes(`docker-compose -p ${PREFIX} -f <this file> up -d`), text);
    });
});

describe("npm run compose (scripts/compose.ts)", () => {
    let tmp: string;
    beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-compose-"))));
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("exports the dev stack from Pulumi.yaml and Pulumi.dev.yaml into the file named by --out", () => {
        const out = path.join(tmp, "docker-compose.yml");
        const lines: string[] = [];
        assert.strictEqual(main(["--stack", "dev", "--out", out, "--project-dir", root], (l) => lines.push(l)), 0);
        const planned = planStack(readStackFiles(root, "dev"), root);
        assert.ok(planned.ok);
        assert.deepStrictEqual(
            parse(fs.readFileSync(out, "utf8")),
            JSON.parse(JSON.stringify(composeDocument(planned.plan, { fileDir: tmp }))),
        );
        const prefix = `ddpsim-dev-ddp-${identityTag(defaultOwner(), "ddpsim", "dev", "ddp")}`;
        assert.match(lines[1], new RegExp(`^run it with: docker-compose -p ${prefix} -f .*docker-compose.yml up -d$`));
    });

    const variants: [string, string][] = [
        ["the dev stack", ""],
        ["the dev stack with a 100 Mbit/s interconnect", "  ddpsim:interconnect: 100mbit\n"],
    ];
    for (const [title, extra] of variants) {
        it(`describes the same containers as the stack program deploys for ${title}`, async () => {
            const file = path.join(tmp, "Pulumi.dev.yaml");
            // The extra setting goes into the config block (the file ends with encryptionsalt, outside it).
            const dev = fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8");
            fs.writeFileSync(file, dev.replace("config:\n", `config:\n${extra}`));
            const files = readStackFiles(root, "dev", file);
            const config = Object.fromEntries(Object.entries(files.config).map(([k, v]) => [`ddpsim:${k}`, v]));
            const registered = await useMocks(config, { stack: "dev" });
            await runStackProgram(path.join(root, "index.ts"));
            const containers = registered.filter((r) => r.type === "docker:index/container:Container").map((r) => r.inputs);
            const planned = planStack(files, root);
            assert.ok(planned.ok);
            const services = Object.values(composeDocument(planned.plan).services);
            const unescaped = (words: string[]) => words.map((w) => w.replace(/\$\$/g, "$"));
            assert.strictEqual(services.length, containers.length);
            services.forEach((s, i) => {
                const c = containers[i];
                assert.strictEqual(c.name.replace(/-[a-z0-9]{6}$/, ""), s.container_name);
                assert.strictEqual(c.hostname, s.hostname);
                assert.deepStrictEqual(c.networksAdvanced[0].aliases, s.networks.cluster.aliases);
                assert.deepStrictEqual(c.command, unescaped(s.command));
                // The component adds its deployment's run id; Compose has none (the node agent then scopes verdicts by time).
                assert.deepStrictEqual(
                    c.envs.filter((e: string) => !e.startsWith("DDPSIM_RUN_ID=")),
                    Object.entries(s.environment).map(([k, v]) => `${k}=${v}`),
                );
                assert.strictEqual(c.workingDir, s.working_dir);
                // The node agent: uploaded into the container, bind-mounted read-only by Compose.
                const files = s.volumes.filter((v) => v.target.startsWith("/opt/ddpsim/"));
                assert.deepStrictEqual(c.uploads.map((u: any) => u.file), files.map((v) => v.target));
                assert.ok(files.every((v) => v.type === "bind" && v.read_only === true));
                assert.deepStrictEqual(
                    c.mounts.map((m: any) => [m.type, m.target, m.readOnly]),
                    s.volumes.filter((v) => !files.includes(v)).map((v) => [v.type, v.target, v.read_only === true]),
                );
                assert.strictEqual(`${c.shmSize}m`, s.shm_size);
                assert.strictEqual(`${c.restart}:${c.maxRetryCount}`, s.restart);
                assert.strictEqual(`${c.stopTimeout}s`, s.stop_grace_period);
                assert.deepStrictEqual(Object.fromEntries(c.labels.map((l: any) => [l.label, l.value])), s.labels);
                assert.deepStrictEqual(c.deviceRequests[0].deviceIds, s.deploy?.resources.reservations.devices[0].device_ids);
                assert.deepStrictEqual(c.healthcheck?.tests, s.healthcheck?.test);
                assert.deepStrictEqual(
                    [c.capabilities?.adds ?? [], c.capabilities?.drops ?? []],
                    [s.cap_add ?? [], s.cap_drop ?? []],
                );
            });
        });
    }

    it("refuses invalid stack config with the stack program's errors, naming the ddpsim: keys", () => {
        const file = path.join(tmp, "Pulumi.bad.yaml");
        fs.writeFileSync(file, 'config:\n  ddpsim:nodes: 0\n  ddpsim:node: 3\n  ddpsim:imageMode: docker-hub\n  docker:host: "unix:///x"\n');
        const errors: string[] = [];
        const code = main(["--stack", "bad", "--config-file", file, "--out", path.join(tmp, "x.yml"), "--project-dir", root], () => undefined, (l) => errors.push(l));
        assert.strictEqual(code, 1);
        assert.strictEqual(
            errors.join("\n"),
            [
                'Invalid stack config for stack "bad":',
                "  - ddpsim:node is not a known setting; known settings: " +
                    Object.keys(require("../../components/plan").STACK_CONFIG_KEYS).join(", "),
                "  - ddpsim:nodes must be a whole number from 1 to 256, got 0",
                '  - ddpsim:imageMode must be one of "registry", "build", "local", got "docker-hub"',
            ].join("\n"),
        );
        assert.ok(!fs.existsSync(path.join(tmp, "x.yml")));
    });

    it("refuses secrets, which a Compose file would have to hold in clear text", () => {
        const file = path.join(tmp, "Pulumi.s.yaml");
        fs.writeFileSync(file, "config:\n  ddpsim:env:\n    secure: AAABAJk=\n");
        const planned = planStack(readStackFiles(root, "s", file), root);
        assert.ok(!planned.ok);
        assert.deepStrictEqual(planned.errors.map((e) => e.reason), ["ddpsim:env is a secret, which a Compose file cannot hold"]);
    });

    it("applies Pulumi.yaml's defaults, then the stack file", () => {
        const file = path.join(tmp, "Pulumi.x.yaml");
        fs.writeFileSync(file, "config:\n  ddpsim:nodes: 4\n  ddpsim:scriptArgs: [\"--steps\", \"20\"]\n");
        const files = readStackFiles(root, "x", file);
        assert.strictEqual(files.config.nodes, "4");
        assert.strictEqual(files.config.scriptArgs, '["--steps","20"]');
        assert.strictEqual(files.config.shmSizeMb, "2048");
        assert.deepStrictEqual(files.presentKeys, ["nodes", "scriptArgs"]);
    });
});
