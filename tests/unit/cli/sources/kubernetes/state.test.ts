/**
 * A Kubernetes node's state in Docker's words (cli/sources/kubernetes/jobs.ts): the newest pod of the index is the
 * node, a failed pod the Job will replace is "restarting", the pods it replaced are restarts. The real API is used in
 * tests/kubernetes.
 */
import * as assert from "assert";
import { nodeOf, nodeState } from "../../../../../cli/sources/kubernetes/jobs";

const node = nodeOf({ namespace: "ml", name: "ddpsim-dev-ddp-abc123" }, 1);
const running = { metadata: { name: "p-new" }, status: { phase: "Running", containerStatuses: [{ state: { running: { startedAt: new Date(5000) } } }] } };
const failed = (code: number, name = "p-old") => ({
    metadata: { name },
    status: { phase: "Failed", containerStatuses: [{ state: { terminated: { exitCode: code, startedAt: new Date(1000), finishedAt: new Date(2000) } } }] },
});
const succeeded = { metadata: { name: "p" }, status: { phase: "Succeeded", containerStatuses: [{ state: { terminated: { exitCode: 0, finishedAt: new Date(9000) } } }] } };
const pending = { metadata: { name: "p-next" }, status: { phase: "Pending" } };
const job = (condition?: "Complete" | "Failed") => ({ status: { conditions: condition === undefined ? [] : [{ type: condition, status: "True" }] } });

describe("the Kubernetes source's node states", () => {
    it("names the node by its index: the pod's host name, rank, id <namespace>/<job>/<index>", () => {
        assert.deepStrictEqual(node, { id: "ml/ddpsim-dev-ddp-abc123/1", name: "ddpsim-dev-ddp-abc123-1", node: "ddpsim-dev-ddp-abc123-1", rank: 1, role: "worker", gpus: [] });
    });

    it("maps each pod phase and counts replaced pods as restarts", () => {
        const cases: [object, object[], string, number, number][] = [
            [job(), [], "created", 0, 0],
            [job(), [pending], "created", 0, 0],
            [job(), [running], "running", 0, 0],
            [job(), [succeeded], "exited", 0, 0],
            [job(), [failed(143)], "restarting", 143, 0],
            [job(), [failed(137), pending], "restarting", 137, 1],
            [job(), [failed(143), failed(1, "p-mid"), running], "running", 1, 2],
            [job("Failed"), [failed(2)], "exited", 2, 0],
            [job("Complete"), [failed(143), succeeded], "exited", 0, 1],
        ];
        for (const [j, pods, state, exitCode, restarts] of cases) {
            const s = nodeState(node, j as any, pods as any);
            assert.deepStrictEqual([s.state, s.exitCode, s.restarts], [state, exitCode, restarts], JSON.stringify(pods));
        }
    });

    it("takes the times and the pod's name from the newest pod", () => {
        const s = nodeState(node, job() as any, [failed(143), running] as any);
        assert.deepStrictEqual([s.name, s.startedAtMs, s.finishedAtMs], ["p-new", 5000, undefined]);
        const done = nodeState(node, job("Failed") as any, [failed(2)] as any);
        assert.deepStrictEqual([done.startedAtMs, done.finishedAtMs], [1000, 2000]);
    });
});
