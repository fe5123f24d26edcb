import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    NCCL_MAX_SOCKETS_PER_CONNECTION,
    NCCL_SOCKET_SETTINGS,
    MIN_CPUS_FOR_TUNED_SOCKETS,
    ncclSocketDefaults,
    planCluster,
    resolveClusterSpec,
} from "../../components/plan";
import { splitNodeCommand } from "../support/nodeCommand";
import { REPO_ROOT } from "../support/stackFiles";

const identity = { owner: "ann", project: "ddpsim", stack: "dev", cluster: "ddp" };
const TUNED = { NCCL_NSOCKS_PERTHREAD: "2", NCCL_SOCKET_NTHREADS: "4", NCCL_MIN_NCHANNELS: "4" };

function planOf(raw: Record<string, unknown>) {
    const result = resolveClusterSpec(raw, "/home/user/project");
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return planCluster(result.spec, identity);
}

describe("NCCL socket settings (components/plan/ncclSockets.ts)", () => {
    const exact: [number, { env: Record<string, string>; minCpus: number } | undefined][] = [
        [0, undefined],
        [1, { env: TUNED, minCpus: 16 }],
        [2, { env: TUNED, minCpus: 16 }],
        [8, { env: TUNED, minCpus: 16 }],
    ];
    for (const [gpusPerNode, defaults] of exact) {
        it(`gives a node with ${gpusPerNode} GPU(s) ${JSON.stringify(defaults)}`, () => {
            assert.deepStrictEqual(ncclSocketDefaults(gpusPerNode), defaults);
        });
    }

    it("stays within NCCL's limits (threads 1..16, sockets x threads <= 64)", () => {
        const threads = Number(NCCL_SOCKET_SETTINGS.NCCL_SOCKET_NTHREADS);
        const sockets = Number(NCCL_SOCKET_SETTINGS.NCCL_NSOCKS_PERTHREAD);
        assert.ok(threads >= 1 && threads <= 16);
        assert.ok(sockets * threads <= NCCL_MAX_SOCKETS_PER_CONNECTION);
    });

    it("returns a fresh object, so a caller's change cannot change the defaults", () => {
        const defaults = ncclSocketDefaults(1)!;
        defaults.env.NCCL_SOCKET_NTHREADS = "16";
        assert.strictEqual(ncclSocketDefaults(1)!.env.NCCL_SOCKET_NTHREADS, "4");
        assert.strictEqual(MIN_CPUS_FOR_TUNED_SOCKETS, 16);
    });

    it("goes to every GPU node's agent (which applies it), never to a CPU node, and never into the env", () => {
        const gpu = planOf({ nodes: 2, gpusPerNode: 1, env: { NCCL_SOCKET_NTHREADS: "1" } });
        for (const node of gpu.nodes) {
            assert.deepStrictEqual(splitNodeCommand(node.command).config.ncclSockets, { env: TUNED, minCpus: 16 });
            assert.strictEqual(node.env.NCCL_SOCKET_NTHREADS, "1", "the user's value, which the agent keeps");
            assert.strictEqual(node.env.NCCL_NSOCKS_PERTHREAD, undefined);
        }
        const cpu = planOf({ nodes: 2, gpusPerNode: 0 });
        for (const node of cpu.nodes) assert.strictEqual(splitNodeCommand(node.command).config.ncclSockets, undefined);
    });

    it("is what training/gpu_node_bench.sh measures as 'ours'", () => {
        const script = fs.readFileSync(path.join(REPO_ROOT, "training", "gpu_node_bench.sh"), "utf8");
        const line = script.split("\n").find((l) => l.startsWith("ours() {"));
        assert.ok(line, "gpu_node_bench.sh defines ours()");
        const settings = /echo "([^"]*)"/.exec(line!)![1];
        const measured = Object.fromEntries(settings.split(",").map((kv) => kv.split("=")));
        assert.deepStrictEqual(measured, ncclSocketDefaults(1)!.env);
    });
});
