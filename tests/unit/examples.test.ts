/**
 * examples/two-clusters under Pulumi's mocks: DdpCluster used inside a larger program, as a user would import it
 * (`from "ddpsim"`, the compiled package).
 */
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { defaultOwner, identityTag } from "../../components";
import { MOCK_SUFFIX, ObservedOptions, observeOptions, RegisteredResource, useMocks } from "../support/pulumiMocks";

const root = path.resolve(__dirname, "..", "..");
const program = path.join(root, "examples", "two-clusters", "index.ts");
const PROJECT = "ddpsim-two-clusters";
const CONTAINER = "docker:index/container:Container";
const DATASET = `${PROJECT}-dev-dataset-${identityTag(defaultOwner(), PROJECT, "dev", "dataset")}`;
/** The clusters' names: project, stack, cluster and a hash of the owner. */
const prefix = (cluster: string) => `${PROJECT}-dev-${cluster}-${identityTag(defaultOwner(), PROJECT, "dev", cluster)}`;

/** Runs the example as `pulumi up` would, recording every resource's options. */
async function runExample(config: Record<string, string> = {}) {
    const registered = await useMocks(config, { project: PROJECT, stack: "dev" });
    const seen: ObservedOptions[] = [];
    for (const key of Object.keys(require.cache)) {
        if (key === program) delete require.cache[key];
    }
    const outputs = (await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation(observeOptions(seen));
        return require(program);
    })) as Record<string, any>;
    return { registered, seen, outputs };
}

function clusterContainers(registered: RegisteredResource[], cluster: string) {
    return registered.filter((r) => r.type === CONTAINER && r.name.startsWith(`${cluster}-node-`));
}

function flag(command: string[], name: string): string {
    return command[command.indexOf(name) + 1];
}

describe("examples/two-clusters", function () {
    this.timeout(60_000);

    it("declares a 2-node and a 4-node cluster, each with its own network, endpoint and checkpoint volume", async () => {
        const { registered, outputs } = await runExample();
        const small = clusterContainers(registered, "small");
        const large = clusterContainers(registered, "large");
        assert.deepStrictEqual(small.map((c) => c.name), ["small-node-0", "small-node-1"]);
        assert.deepStrictEqual(large.map((c) => c.name), ["large-node-0", "large-node-1", "large-node-2", "large-node-3"]);
        assert.deepStrictEqual(
            [...small, ...large].map((c) => [flag(c.inputs.command, "--nnodes"), flag(c.inputs.command, "--rdzv-endpoint")]),
            [
                ...small.map(() => ["2", "small-node-0:29500"]),
                ...large.map(() => ["4", "large-node-0:29500"]),
            ],
        );
        assert.deepStrictEqual(
            registered.filter((r) => r.type === "docker:index/network:Network").map((r) => r.inputs.name),
            [`${prefix("small")}-net-${MOCK_SUFFIX}`, `${prefix("large")}-net-${MOCK_SUFFIX}`],
        );
        assert.deepStrictEqual(
            registered.filter((r) => r.type === "docker:index/volume:Volume").map((r) => r.inputs.name).sort(),
            [`${prefix("large")}-checkpoints`, DATASET, `${prefix("small")}-checkpoints`].sort(),
        );
        assert.deepStrictEqual(outputs.smallContainers, [0, 1].map((r) => `${prefix("small")}-node-${r}-${MOCK_SUFFIX}`));
        assert.deepStrictEqual(outputs.largeContainers, [0, 1, 2, 3].map((r) => `${prefix("large")}-node-${r}-${MOCK_SUFFIX}`));
        assert.strictEqual(outputs.datasetVolume, DATASET);
    });

    it("mounts the one dataset volume read-only at /data in all 6 nodes and tells the script (DDPSIM_DATA_DIR)", async () => {
        const { registered } = await runExample();
        const nodes = [...clusterContainers(registered, "small"), ...clusterContainers(registered, "large")];
        assert.strictEqual(nodes.length, 6);
        for (const node of nodes) {
            const data = node.inputs.mounts.filter((m: any) => m.target === "/data");
            assert.deepStrictEqual(data, [{ type: "volume", source: DATASET, target: "/data", readOnly: true }], node.name);
            assert.ok(node.inputs.envs.includes("DDPSIM_DATA_DIR=/data"), node.name);
            assert.deepStrictEqual(node.inputs.command.slice(-2), ["--steps", "100"], node.name);
        }
    });

    it("fills the dataset once, writable, and starts both clusters only after that", async () => {
        const { registered, seen } = await runExample();
        const prepare = registered.filter((r) => r.name === "prepare-dataset");
        assert.strictEqual(prepare.length, 1);
        assert.deepStrictEqual(prepare[0].inputs.mounts[1], { type: "volume", source: DATASET, target: "/data" });
        assert.strictEqual(prepare[0].inputs.attach, true);
        assert.deepStrictEqual(prepare[0].inputs.command.slice(0, 4), ["python3", "/workspace/make_dataset.py", "--out", "/data"]);
        const clusters = seen.filter((s) => s.type === "ddpsim:index:DdpCluster");
        assert.deepStrictEqual(
            clusters.map((c) => [c.name, c.dependsOn]),
            [
                ["small", ["prepare-dataset"]],
                ["large", ["prepare-dataset"]],
            ],
        );
    });

    it("takes the world sizes from its stack config", async () => {
        const { registered } = await runExample({ [`${PROJECT}:smallNodes`]: "1", [`${PROJECT}:largeNodes`]: "3" });
        assert.deepStrictEqual(
            [clusterContainers(registered, "small").length, clusterContainers(registered, "large").length],
            [1, 3],
        );
    });
});
