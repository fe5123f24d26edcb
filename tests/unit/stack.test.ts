import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { defaultOwner } from "../../components/owner";
import { contentTag } from "../../components/hostReading";
import { DEFAULTS, identityTag, readStackConfig, SETTINGS, STACK_CONFIG_KEYS, UNDECLARED_SETTINGS } from "../../components/plan";
import { splitNodeCommand } from "../support/nodeCommand";
import { MOCK_SUFFIX, runStackProgram, useMocks } from "../support/pulumiMocks";
import { REPO_ROOT, stackConfig } from "../support/stackFiles";

const root = REPO_ROOT;
const program = path.join(root, "index.ts");

const CONTAINER = "docker:index/container:Container";
const PREFIX = (stack: string) => `ddpsim-${stack}-ddp-${identityTag(defaultOwner(), "ddpsim", stack, "ddp")}`;

describe("the stack program (index.ts)", () => {
    it("brings up the dev stack: the Compose topology with 2 nodes, 1 GPU each, master on 29500", async () => {
        const registered = await useMocks(stackConfig("dev"), { stack: "dev" });
        const outputs = await runStackProgram(program);
        const containers = registered.filter((r) => r.type === CONTAINER);
        assert.deepStrictEqual(
            containers.map((c) => [c.inputs.hostname, c.inputs.deviceRequests[0].deviceIds]),
            [
                ["ddp-node-0", ["0"]],
                ["ddp-node-1", ["1"]],
            ],
        );
        const image = registered.filter((r) => r.type === "docker:index/remoteImage:RemoteImage");
        assert.deepStrictEqual(
            image.map((i) => [i.inputs.name, i.inputs.build, i.inputs.keepLocally]),
            [[`ddpsim-train:dev-${contentTag(path.join(root, "training"), PREFIX("dev"))}`, { context: "training", dockerfile: "Dockerfile" }, true]],
        );
        assert.strictEqual(containers[0].inputs.mounts[0].source, path.join(root, "training"));
        assert.strictEqual(outputs.masterEndpoint, "ddp-node-0:29500");
        assert.deepStrictEqual(outputs.containerNames, [
            `${PREFIX("dev")}-node-0-${MOCK_SUFFIX}`,
            `${PREFIX("dev")}-node-1-${MOCK_SUFFIX}`,
        ]);
        assert.strictEqual(outputs.checkpointVolumeName, `${PREFIX("dev")}-checkpoints`);
        // the Kubernetes target's outputs are not exported at all (an undefined export makes Pulumi warn)
        assert.deepStrictEqual(
            Object.keys(outputs).filter((key) => ["jobName", "serviceName", "kubernetesNamespace"].includes(key)),
            [],
        );
    });

    it("brings up a CPU stack with no GPU bound", async () => {
        const registered = await useMocks(stackConfig("cpu"), { stack: "cpu" });
        await runStackProgram(program);
        const containers = registered.filter((r) => r.type === CONTAINER);
        assert.strictEqual(containers.length, 2);
        assert.ok(containers.every((c) => c.inputs.deviceRequests === undefined && c.inputs.image === "ddpsim-cpu:latest"));
    });

    const invalid: [string, Record<string, unknown>, string][] = [
        ["nodes 0", { "ddpsim:nodes": 0 }, "ddpsim:nodes must be a whole number from 1 to 256, got 0"],
        ["nodes 1.5", { "ddpsim:nodes": 1.5 }, "ddpsim:nodes must be a whole number from 1 to 256, got 1.5"],
        ["nodes a string", { "ddpsim:nodes": "two" }, 'ddpsim:nodes must be a whole number from 1 to 256, got "two"'],
        ["a negative gpusPerNode", { "ddpsim:gpusPerNode": -1 }, "ddpsim:gpusPerNode must be a whole number from 0 to 64, got -1"],
        [
            "more GPUs than listed",
            { "ddpsim:nodes": 3, "ddpsim:gpuIds": ["0"] },
            'ddpsim:gpuIds lists 1 GPU(s) but nodes (3) x gpusPerNode (1) needs 3; set gpuSharing to true to share them between nodes round-robin, got ["0"]',
        ],
        ["port 0", { "ddpsim:masterPort": 0 }, "ddpsim:masterPort must be a whole number from 1 to 65535, got 0"],
        ["an empty image", { "ddpsim:image": "" }, 'ddpsim:image must be a non-empty string, got ""'],
        [
            "an unknown image mode",
            { "ddpsim:imageMode": "docker-hub" },
            'ddpsim:imageMode must be one of "registry", "build", "local", got "docker-hub"',
        ],
        [
            "a misspelt key",
            { "ddpsim:node": 3 },
            `ddpsim:node is not a known setting; known settings: ${Object.keys(STACK_CONFIG_KEYS).join(", ")}`,
        ],
    ];
    for (const [title, overrides, reason] of invalid) {
        it(`refuses ${title} naming the config key, before any resource`, async () => {
            const registered = await useMocks(stackConfig("dev", overrides), { stack: "dev" });
            await assert.rejects(runStackProgram(program), (err: unknown) => {
                assert.ok(pulumi.InputPropertiesError.isInstance(err) && pulumi.RunError.isInstance(err), `got ${err}`);
                assert.strictEqual(err.message, `Invalid stack config for stack "dev":\n  - ${reason}`);
                return true;
            });
            assert.deepStrictEqual(
                registered.map((r) => r.type),
                [],
            );
        });
    }

    it("keeps a secret ddpsim:env secret down to the containers", async () => {
        const config = stackConfig("cpu", { "ddpsim:env": { HF_TOKEN: "hf_s3cr3t" } });
        const registered = await useMocks(config, { stack: "cpu", secretKeys: ["ddpsim:env"] });
        await runStackProgram(program);
        const containers = registered.filter((r) => r.type === CONTAINER);
        assert.strictEqual(containers.length, 2);
        for (const c of containers) {
            assert.strictEqual(c.inputs.envs["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
            assert.ok(c.inputs.envs.value.includes("HF_TOKEN=hf_s3cr3t"));
        }
    });

    it("refuses a secret in any key but ddpsim:env, since its value would land in plain inputs", async () => {
        const config = stackConfig("cpu", { "ddpsim:scriptArgs": ["--token", "t0k"] });
        const registered = await useMocks(config, { stack: "cpu", secretKeys: ["ddpsim:scriptArgs"] });
        await assert.rejects(runStackProgram(program), {
            message:
                'Invalid stack config for stack "cpu":\n  - ddpsim:scriptArgs is a secret, which only env may hold ' +
                "(its values stay secret in the containers)",
        });
        assert.deepStrictEqual(registered, []);
    });

    it("parses stack config values into typed arguments", () => {
        const raw: Record<string, string> = {
            nodes: "4",
            retainCheckpoints: "false",
            gpuIds: '["0","1"]',
            env: '{"NCCL_DEBUG":"INFO"}',
            image: "x:1",
        };
        const { args, errors } = readStackConfig((k) => raw[k], Object.keys(raw));
        assert.deepStrictEqual(errors, []);
        assert.deepStrictEqual(args, {
            nodes: 4,
            retainCheckpoints: false,
            gpuIds: ["0", "1"],
            env: { NCCL_DEBUG: "INFO" },
            image: "x:1",
        });
    });

    it("declares config only with the types Pulumi's project schema allows", () => {
        // Pulumi validates Pulumi.yaml against its project schema: each declaration needs a type among these,
        // and an array needs the type of its items; anything else stops `pulumi up` before the program runs.
        const schema = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")).config as Record<string, any>;
        for (const [key, declaration] of Object.entries(schema)) {
            assert.ok(["string", "integer", "boolean", "array"].includes(declaration.type), `type of ${key}: ${declaration.type}`);
            if (declaration.type === "array") assert.ok(["string", "integer", "boolean"].includes(declaration.items?.type), key);
            const allowed = ["type", "items", "description", "secret", "default"];
            assert.deepStrictEqual(Object.keys(declaration).filter((k) => !allowed.includes(k)), [], key);
        }
    });

    it("declares in Pulumi.yaml every setting that has a default, with the component's default, and no other", () => {
        const schema = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")).config as Record<string, any>;
        const all = Object.keys(STACK_CONFIG_KEYS);
        const undeclared: string[] = UNDECLARED_SETTINGS;
        assert.deepStrictEqual(undeclared.filter((k) => !all.includes(k)), [], "UNDECLARED_SETTINGS names only known settings");
        // The real Pulumi CLI refuses a stack that lacks a key declared without a default: every declaration has one.
        assert.deepStrictEqual(Object.keys(schema).sort(), all.filter((k) => !undeclared.includes(k)).sort());
        const defaults: Record<string, unknown> = { ...DEFAULTS };
        // An undeclared setting may still have a default of the component's (script: the CLI would apply a declared
        // default to every stack, and a stack with `module` would then carry both).
        assert.deepStrictEqual(Object.keys(defaults).filter((k) => !undeclared.includes(k)).sort(), Object.keys(schema).sort(), "defaults: one list");
        const kinds: Record<string, string> = { integer: "integer", string: "string", boolean: "boolean", list: "array", integerList: "array" };
        for (const key of Object.keys(schema)) {
            const kind = STACK_CONFIG_KEYS[key as keyof typeof STACK_CONFIG_KEYS];
            assert.strictEqual(schema[key].type, kinds[kind], `type of ${key}`);
            assert.ok(typeof schema[key].description === "string" && schema[key].description.length > 10, key);
            assert.deepStrictEqual(schema[key].default, defaults[key], `default of ${key}`);
        }
        for (const key of UNDECLARED_SETTINGS) {
            assert.ok(SETTINGS[key].description.length > 10, key);
        }
    });
});

describe("the package entry point", () => {
    it("lets another program import DdpCluster: 3 nodes on GPUs 0, 1 and 2", async () => {
        // Resolved through package.json "exports": the compiled package, as a dependent program sees it.
        const { DdpCluster } = require("ddpsim");
        const registered = await useMocks();
        const cluster = new DdpCluster("trainers", { nodes: 3, gpusPerNode: 1, gpuIds: ["0", "1", "2"] });
        await new Promise((resolve) => cluster.logsCommand.apply(resolve));
        const containers = registered.filter((r) => r.type === CONTAINER);
        assert.strictEqual(registered.filter((r) => r.type === "docker:index/network:Network").length, 1);
        assert.deepStrictEqual(
            containers.map((c) => c.inputs.deviceRequests[0].deviceIds),
            [["0"], ["1"], ["2"]],
        );
        for (const c of containers) {
            assert.deepStrictEqual(splitNodeCommand(c.inputs.command).torchrun.slice(0, 13), [
                "torchrun",
                "--nnodes", "3",
                "--nproc-per-node", "1",
                "--rdzv-backend", "c10d",
                "--rdzv-endpoint", "trainers-node-0:29500",
                "--rdzv-id", `ddpsim-test-trainers-${identityTag(defaultOwner(), "ddpsim", "test", "trainers")}`,
                "--max-restarts", "3",
            ]);
        }
    });
});
