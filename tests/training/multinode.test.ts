/**
 * Two containers as two nodes (1 process each) meeting through torchrun's c10d rendezvous on a user bridge
 * network, as the cluster starts them, with a checkpoint folder shared like the cluster's volume.
 */
import * as assert from "assert";
import { ensureCpuImage } from "../support/cpuImage";
import {
    lastResult,
    logs,
    REFERENCE_ARGS,
    referenceRun,
    torchrun,
    TrainingScope,
    waitExit,
} from "../support/trainingRuns";

describe("training: two nodes in two containers through c10d rendezvous", function () {
    this.timeout(240_000);
    let image: string;
    let scope: TrainingScope;

    before(async function () {
        this.timeout(1_200_000);
        image = await ensureCpuImage();
    });
    beforeEach(() => {
        scope = new TrainingScope(image, "nodes");
    });
    afterEach(async () => {
        await scope.cleanUp();
    });

    it("train and agree, and match the single-container run of the same world size bit for bit", async () => {
        const ref = await referenceRun(image);
        const network = await scope.network();
        const checkpoints = scope.tempDir();
        const command = torchrun(
            { nnodes: 2, nprocPerNode: 1, endpoint: "node-0:29400", rdzvId: scope.prefix, maxRestarts: 1 },
            REFERENCE_ARGS,
        );
        const nodes = [];
        for (const rank of [0, 1]) {
            nodes.push(
                await scope.start({
                    name: `node-${rank}`,
                    alias: `node-${rank}`,
                    network,
                    checkpoints,
                    env: { NODE_RANK: String(rank), MASTER_ADDR: "node-0", MASTER_PORT: "29400" },
                    command,
                }),
            );
        }
        const codes = await Promise.all(nodes.map((n) => waitExit(n, 180_000)));
        const outputs = await Promise.all(nodes.map((n) => logs(n)));
        assert.deepStrictEqual(codes, [0, 0], outputs.map((o) => o.stdout + o.stderr).join("\n----\n"));
        // global rank 0 lives on whichever node the rendezvous made group rank 0
        const withResult = outputs.filter((o) => o.stdout.includes("DDPSIM_RESULT "));
        assert.strictEqual(withResult.length, 1, "exactly one rank 0");
        const result = lastResult(withResult[0].stdout);
        assert.strictEqual(result.world_size, 2);
        assert.strictEqual(result.nodes, 2);
        assert.strictEqual(result.agree, true);
        assert.strictEqual(result.final_step, 30);
        assert.match(withResult[0].stdout, /world size 2 \(2 node\(s\)\), step 30, all ranks agree/);
        assert.strictEqual(result.checksum, ref.result.checksum, "gloo over the bridge sums as it does in one container");
    });
});
