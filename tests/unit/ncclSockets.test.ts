import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    NCCL_MAX_SOCKETS_PER_CONNECTION,
    NCCL_SOCKET_SETTINGS,
    ncclSocketEnv,
    planCluster,
    resolveClusterSpec,
} from "../../components/plan";
import { REPO_ROOT } from "../support/stackFiles";

const identity = { owner: "ann", project: "ddpsim", stack: "dev", name: "ddp" };
const TUNED = { NCCL_NSOCKS_PERTHREAD: "2", NCCL_SOCKET_NTHREADS: "4", NCCL_MIN_NCHANNELS: "4" };

function planOf(raw: Record<string, unknown>) {
    const result = resolveClusterSpec(raw, "/home/user/project");
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return planCluster(result.spec, identity);
}

describe("NCCL socket settings (components/plan/ncclSockets.ts)", () => {
    const exact: [number, Record<string, string>][] = [
        [0, {}],
        [1, TUNED],
        [2, TUNED],
        [8, TUNED],
    ];
    for (const [gpusPerNode, env] of exact) {
        it(`gives a node with ${gpusPerNode} GPU(s) ${JSON.stringify(env)}`, () => {
            assert.deepStrictEqual(ncclSocketEnv(gpusPerNode), env);
        });
    }

    it("stays within NCCL's limits (threads 1..16, sockets x threads <= 64)", () => {
        const threads = Number(NCCL_SOCKET_SETTINGS.NCCL_SOCKET_NTHREADS);
        const sockets = Number(NCCL_SOCKET_SETTINGS.NCCL_NSOCKS_PERTHREAD);
        assert.ok(threads >= 1 && threads <= 16);
        assert.ok(sockets * threads <= NCCL_MAX_SOCKETS_PER_CONNECTION);
    });

    it("returns a fresh object, so a caller's merge cannot change the defaults", () => {
        const env = ncclSocketEnv(1);
        env.NCCL_SOCKET_NTHREADS = "16";
        assert.strictEqual(ncclSocketEnv(1).NCCL_SOCKET_NTHREADS, "4");
    });

    it("is in every GPU node's env, and the user's env wins", () => {
        const gpu = planOf({ nodes: 2, gpusPerNode: 1, env: { NCCL_SOCKET_NTHREADS: "1", NCCL_DEBUG: "INFO" } });
        for (const node of gpu.nodes) {
            assert.strictEqual(node.env.NCCL_SOCKET_NTHREADS, "1");
            assert.strictEqual(node.env.NCCL_NSOCKS_PERTHREAD, "2");
            assert.strictEqual(node.env.NCCL_MIN_NCHANNELS, "4");
        }
        const cpu = planOf({ nodes: 2, gpusPerNode: 0 });
        for (const node of cpu.nodes) {
            assert.deepStrictEqual(Object.keys(node.env).filter((k) => k in TUNED), []);
        }
    });

    it("is what training/gpu_node_bench.sh measures as 'ours'", () => {
        const script = fs.readFileSync(path.join(REPO_ROOT, "training", "gpu_node_bench.sh"), "utf8");
        const line = script.split("\n").find((l) => l.startsWith("ours() {"));
        assert.ok(line, "gpu_node_bench.sh defines ours()");
        const settings = /echo "([^"]*)"/.exec(line!)![1];
        const measured = Object.fromEntries(settings.split(",").map((kv) => kv.split("=")));
        assert.deepStrictEqual(measured, ncclSocketEnv(1));
    });
});
