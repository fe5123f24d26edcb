/** The two keys faults need from the plan: collectiveTimeoutSeconds (run contract) and minNodes (elastic training). */
import * as assert from "assert";
import { ClusterSpec, planCluster, resolveClusterSpec } from "../../../components/plan";
import { targetProblems } from "../../../components/targets/targetKeys";
import { splitNodeCommand } from "../../support/nodeCommand";

const identity = { owner: "ann", project: "ddpsim", stack: "dev", cluster: "ddp" };

function resolve(raw: Record<string, unknown>) {
    return resolveClusterSpec(raw, "/home/user/project");
}

function specOf(raw: Record<string, unknown>): ClusterSpec {
    const result = resolve(raw);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.spec;
}

function reasons(raw: Record<string, unknown>): string[] {
    const result = resolve(raw);
    assert.strictEqual(result.ok, false);
    return result.ok ? [] : result.errors.map((e) => e.reason);
}

describe("collectiveTimeoutSeconds and minNodes", () => {
    it("default to 30 s and to nodes (not elastic): torchrun gets --nnodes N, no DDPSIM_MIN_NODES, no label", () => {
        const plan = planCluster(specOf({ nodes: 3 }), identity);
        assert.strictEqual(plan.spec.collectiveTimeoutSeconds, 30);
        assert.strictEqual(plan.spec.minNodes, 3);
        const { torchrun } = splitNodeCommand(plan.nodes[1].command);
        assert.deepStrictEqual(torchrun.slice(1, 3), ["--nnodes", "3"]);
        assert.strictEqual(plan.nodes[1].env.DDPSIM_COLLECTIVE_TIMEOUT_SECONDS, "30");
        assert.strictEqual(plan.nodes[1].env.DDPSIM_MIN_NODES, undefined);
        assert.strictEqual(plan.nodes[1].labels["ddpsim.minNodes"], undefined);
    });

    it("hand the timeout to every node and make the rendezvous elastic: --nnodes MIN:MAX, DDPSIM_MIN_NODES, label ddpsim.minNodes", () => {
        const plan = planCluster(specOf({ nodes: 3, minNodes: 2, collectiveTimeoutSeconds: 12 }), identity);
        for (const node of plan.nodes) {
            const { torchrun } = splitNodeCommand(node.command);
            assert.deepStrictEqual(torchrun.slice(1, 3), ["--nnodes", "2:3"]);
            assert.strictEqual(node.env.DDPSIM_COLLECTIVE_TIMEOUT_SECONDS, "12");
            assert.strictEqual(node.env.DDPSIM_MIN_NODES, "2");
            assert.strictEqual(node.env.NNODES, "3", "NNODES stays the deployment's node count");
            assert.strictEqual(node.labels["ddpsim.minNodes"], "2");
        }
    });

    it("cannot be overridden through env: the contract's value wins", () => {
        const plan = planCluster(specOf({ env: { DDPSIM_COLLECTIVE_TIMEOUT_SECONDS: "999" } }), identity);
        assert.strictEqual(plan.nodes[0].env.DDPSIM_COLLECTIVE_TIMEOUT_SECONDS, "30");
    });

    it("refuse values out of range, naming the key, the value and what is allowed", () => {
        assert.deepStrictEqual(reasons({ collectiveTimeoutSeconds: 2 }), ["collectiveTimeoutSeconds must be a whole number from 5 to 86400, got 2"]);
        assert.deepStrictEqual(reasons({ collectiveTimeoutSeconds: "30s" }), ['collectiveTimeoutSeconds must be a whole number from 5 to 86400, got "30s"']);
        assert.deepStrictEqual(reasons({ nodes: 2, minNodes: 3 }), ["minNodes must not exceed nodes (2), got 3"]);
        assert.deepStrictEqual(reasons({ minNodes: 0 }), ["minNodes must be a whole number from 1 to 256, got 0"]);
    });
});

describe("minNodes on Kubernetes", () => {
    it("is refused with what to do instead: an Indexed Job never shrinks", () => {
        assert.deepStrictEqual(targetProblems("kubernetes", { minNodes: 2 }).map((e) => e.propertyPath), ["minNodes"]);
        assert.match(targetProblems("kubernetes", { minNodes: 2 })[0].reason, /^minNodes cannot be used with target "kubernetes": an Indexed Job .* remove it, got 2$/);
        assert.deepStrictEqual(targetProblems("kubernetes", { collectiveTimeoutSeconds: 60 }), [], "the timeout means the same in pods");
    });
});
