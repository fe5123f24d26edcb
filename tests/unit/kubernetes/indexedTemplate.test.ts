import * as assert from "assert";
import {
    escapeDollars,
    expandKubernetes,
    foldNodes,
    INDEX_REFERENCE,
    referenceMark,
} from "../../../components/targets/indexedTemplate";

const I = INDEX_REFERENCE;

describe("Kubernetes' $(VAR) expansion (expandKubernetes), as the kubelet does it", () => {
    const vars = { A: "x", JOB_COMPLETION_INDEX: "7", EMPTY: "" };
    const cases: [string, string][] = [
        ["plain", "plain"],
        ["$(A)", "x"],
        ["pre-$(A)-post", "pre-x-post"],
        ["$(JOB_COMPLETION_INDEX)$(A)", "7x"],
        ["$(EMPTY)|", "|"],
        ["$(UNDEFINED)", "$(UNDEFINED)"],
        ["$$(A)", "$(A)"],
        ["$$$(A)", "$x"],
        ["$$", "$"],
        ["cost $5", "cost $5"],
        ["$", "$"],
        ["a$", "a$"],
        ["$(A", "$(A"],
        ["re: (: |$)", "re: (: |$)"],
    ];
    for (const [input, expected] of cases) {
        it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
            assert.strictEqual(expandKubernetes(input, vars), expected);
        });
    }

    it("gives back any text that escapeDollars wrote, whatever variables are defined", () => {
        for (const text of ["$(A)", "$$(A)", "cost $5 $(JOB_COMPLETION_INDEX) $", "(: |$)", "${HOME}"]) {
            assert.strictEqual(expandKubernetes(escapeDollars(text), vars), text);
        }
    });
});

describe("foldNodes: N node plans as one Indexed Job template", () => {
    const node = (i: number, extra: Record<string, string> = {}) => ({
        env: { SAME: "1", NODE_RANK: String(i), HOST: `job-${i}`, ADDR: `job-${i}.svc`, COST: "$5", ...extra },
        command: ["python3", "-c", "src $(x)", JSON.stringify({ node: `job-${i}`, rank: i, grace: 60, codes: [2, 3] }), "torchrun", "--nnodes", "3"],
        labels: { "ddpsim.stack": "dev", "ddpsim.rank": String(i) },
    });

    it("writes the index as $(JOB_COMPLETION_INDEX) where nodes differ, and escapes every literal $", () => {
        const template = foldNodes([0, 1, 2].map((i) => node(i)));
        assert.deepStrictEqual(template, {
            env: [
                { name: "SAME", value: "1" },
                { name: "NODE_RANK", value: I },
                { name: "HOST", value: `job-${I}` },
                { name: "ADDR", value: `job-${I}.svc` },
                { name: "COST", value: "$$5" },
            ],
            command: ["python3", "-c", "src $$(x)", `{"node":"job-${I}","rank":${I},"grace":60,"codes":[2,3]}`, "torchrun", "--nnodes", "3"],
            labels: { "ddpsim.stack": "dev" },
        });
    });

    it("splits a name around the index even when the index's digits also stand in the shared text", () => {
        const nodes = Array.from({ length: 12 }, (_, i) => ({ env: { HOST: `j1-1a0-${i}.s1` }, command: [], labels: {} }));
        assert.deepStrictEqual(foldNodes(nodes).env, [{ name: "HOST", value: `j1-1a0-${I}.s1` }]);
    });

    it("keeps one node's values as they are (a one-node Job has index 0 only)", () => {
        assert.deepStrictEqual(foldNodes([node(0)]).env.find((e) => e.name === "NODE_RANK"), { name: "NODE_RANK", value: "0" });
    });

    it("writes a reference mark as $(NAME), for values only the pod knows", () => {
        const nodes = [0, 1].map((i) => ({ env: { STATE: `/w/${referenceMark("DDPSIM_RUN_ID")}/node-${i}` }, command: [], labels: {} }));
        assert.deepStrictEqual(foldNodes(nodes).env, [{ name: "STATE", value: `/w/$(DDPSIM_RUN_ID)/node-${I}` }]);
    });

    const refused: [string, ReturnType<typeof node>[], RegExp][] = [
        ["a value that is not the index", [node(0, { GPU: "3" }), node(1, { GPU: "5" })], /cannot write the variable GPU as one pod template/],
        ["an index off by one", [node(0, { NEXT: "1" }), node(1, { NEXT: "2" })], /cannot write the variable NEXT/],
        ["a variable on one node only", [node(0, { ONLY: "x" }), node(1)], /the nodes' variables differ/],
        [
            "a config field that is not the index",
            [node(0), { ...node(1), command: node(1).command.map((w, i) => (i === 3 ? JSON.stringify({ node: "job-1", rank: 1, grace: 61, codes: [2, 3] }) : w)) }],
            /cannot write word 3 of the command/,
        ],
    ];
    for (const [title, nodes, message] of refused) {
        it(`refuses ${title}, naming it`, () => {
            assert.throws(() => foldNodes(nodes), message);
        });
    }
});
