import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type Docker from "dockerode";
import { CliError, clusterFilters, defaultProject, findNodes, listClusters, resolveCluster, selectNodes } from "../../../../../cli";

interface Fake {
    Id: string;
    Names: string[];
    Labels: Record<string, string>;
}

function container(project: string, stack: string, cluster: string, rank: number, extra: Record<string, string> = {}): Fake {
    const name = `${project}-${stack}-${cluster}-node-${rank}-abc123`;
    return {
        Id: `id-${name}`,
        Names: [`/${name}`],
        Labels: {
            "ddpsim.owner": "ann",
            "ddpsim.project": project,
            "ddpsim.stack": stack,
            "ddpsim.cluster": cluster,
            "ddpsim.rank": String(rank),
            "ddpsim.role": rank === 0 ? "master" : "worker",
            "ddpsim.node": `${cluster}-node-${rank}`,
            "ddpsim.nodes": "2",
            "ddpsim.gpus": "",
            ...extra,
        },
    };
}

/** listContainers with Docker's label filters (`key` or `key=value`, all must match). */
function fakeDocker(containers: Fake[]): Docker {
    return {
        listContainers: async (opts: { filters: { label: string[] } }) =>
            containers.filter((c) =>
                opts.filters.label.every((f) => {
                    const [key, value] = f.split("=");
                    return value === undefined ? key in c.Labels : c.Labels[key] === value;
                }),
            ),
    } as unknown as Docker;
}

const HOST = fakeDocker([
    container("ddpsim", "alpha", "ddp", 1, { "ddpsim.gpus": "2,3" }),
    container("ddpsim", "alpha", "ddp", 0, { "ddpsim.gpus": "0,1" }),
    container("ddpsim", "beta", "ddp", 0),
    container("ddpsim", "beta", "other", 0),
    container("elsewhere", "gamma", "ddp", 0),
    container("ddpsim", "delta", "ddp", 0, { "ddpsim.owner": "bob" }),
]);

const refused = (message: string) => (err: unknown) => err instanceof CliError && err.message === message && err.exitCode === 2;

describe("cli cluster lookup", () => {
    it("selects one cluster by owner, project, stack and cluster labels", () => {
        assert.deepStrictEqual(clusterFilters({ owner: "o", project: "p", stack: "s", cluster: "c" }), {
            label: ["ddpsim.owner=o", "ddpsim.project=p", "ddpsim.stack=s", "ddpsim.cluster=c"],
        });
    });

    it("lists the clusters of a project, or of every project", async () => {
        assert.deepStrictEqual(await listClusters(HOST, "ann", "ddpsim"), [
            { owner: "ann", project: "ddpsim", stack: "alpha", cluster: "ddp" },
            { owner: "ann", project: "ddpsim", stack: "beta", cluster: "ddp" },
            { owner: "ann", project: "ddpsim", stack: "beta", cluster: "other" },
        ]);
        assert.strictEqual((await listClusters(HOST, "ann")).length, 4);
        assert.deepStrictEqual(await listClusters(HOST, "bob"), [{ owner: "bob", project: "ddpsim", stack: "delta", cluster: "ddp" }]);
    });

    it("finds a cluster's nodes by rank, with hostnames and GPU ids from their labels", async () => {
        const nodes = await findNodes(HOST, { owner: "ann", project: "ddpsim", stack: "alpha", cluster: "ddp" });
        assert.deepStrictEqual(nodes, [
            { id: "id-ddpsim-alpha-ddp-node-0-abc123", name: "ddpsim-alpha-ddp-node-0-abc123", node: "ddp-node-0", rank: 0, role: "master", gpus: ["0", "1"] },
            { id: "id-ddpsim-alpha-ddp-node-1-abc123", name: "ddpsim-alpha-ddp-node-1-abc123", node: "ddp-node-1", rank: 1, role: "worker", gpus: ["2", "3"] },
        ]);
    });

    it("resolves a named stack, and the only stack of a cluster with a note", async () => {
        assert.deepStrictEqual(await resolveCluster(HOST, { owner: "ann", project: "ddpsim", cluster: "ddp", stack: "beta" }), {
            ref: { owner: "ann", project: "ddpsim", cluster: "ddp", stack: "beta" },
        });
        assert.deepStrictEqual(await resolveCluster(HOST, { owner: "ann", project: "ddpsim", cluster: "other" }), {
            ref: { owner: "ann", project: "ddpsim", stack: "beta", cluster: "other" },
            note: "using stack beta (the only stack of project ddpsim (owner ann), cluster other, on this host)",
        });
        assert.deepStrictEqual(await resolveCluster(HOST, { owner: "ann", project: "elsewhere", cluster: "ddp" }), {
            ref: { owner: "ann", project: "elsewhere", stack: "gamma", cluster: "ddp" },
            note: "using stack gamma (the only stack of project elsewhere (owner ann), cluster ddp, on this host)",
        });
        assert.deepStrictEqual(await resolveCluster(HOST, { owner: "bob", project: "ddpsim", cluster: "ddp" }), {
            ref: { owner: "bob", project: "ddpsim", stack: "delta", cluster: "ddp" },
            note: "using stack delta (the only stack of project ddpsim (owner bob), cluster ddp, on this host)",
        });
    });

    const errors: [string, { owner: string; project: string; cluster: string; stack?: string }, string][] = [
        ["an unknown stack, listing the stacks", { owner: "ann", project: "ddpsim", cluster: "ddp", stack: "nope" }, "no stack nope of project ddpsim (owner ann) on this Docker host; stacks on this host: alpha, beta"],
        ["a stack without that cluster", { owner: "ann", project: "ddpsim", cluster: "gpu", stack: "alpha" }, "stack alpha (project ddpsim (owner ann)) has no cluster gpu; its clusters: ddp"],
        ["several stacks when none is named", { owner: "ann", project: "ddpsim", cluster: "ddp" }, "several stacks of project ddpsim (owner ann) have a cluster ddp here (alpha, beta): pick one with --stack"],
        ["an unknown cluster", { owner: "ann", project: "ddpsim", cluster: "gpu" }, "no cluster gpu in any stack of project ddpsim (owner ann) on this host; clusters: alpha/ddp, beta/ddp, beta/other"],
        ["an unknown project", { owner: "ann", project: "nobody", cluster: "ddp" }, "no stack of project nobody (owner ann) has containers on this Docker host (is the stack up? is --project right?)"],
        ["a stack of an unknown project", { owner: "ann", project: "nobody", cluster: "ddp", stack: "alpha" }, "no stack alpha of project nobody (owner ann) on this Docker host; no stack of project nobody (owner ann) has containers here"],
    ];
    for (const [what, want, message] of errors) {
        it(`refuses ${what}`, async () => {
            await assert.rejects(resolveCluster(HOST, want), refused(message));
        });
    }

    it("selects nodes by rank or hostname, in rank order, once each", () => {
        const nodes = [0, 1, 2].map((rank) => ({ node: `ddp-node-${rank}`, rank }));
        assert.deepStrictEqual(selectNodes(nodes, undefined), nodes);
        assert.deepStrictEqual(selectNodes(nodes, ["2", "ddp-node-0", "0"]), [nodes[0], nodes[2]]);
        assert.throws(() => selectNodes(nodes, ["7"]), refused("--node 7: no such node; nodes: 0 (ddp-node-0), 1 (ddp-node-1), 2 (ddp-node-2)"));
    });

    it("takes the default project from ./Pulumi.yaml's name, else ddpsim", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-cli-"));
        try {
            assert.strictEqual(defaultProject(dir), "ddpsim");
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "runtime: nodejs\nname: 'my-train'  # the project\ndescription: x\n");
            assert.strictEqual(defaultProject(dir), "my-train");
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), 'name: "quoted"\n');
            assert.strictEqual(defaultProject(dir), "quoted");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        assert.strictEqual(defaultProject(path.resolve(__dirname, "..", "..", "..", "..", "..")), "ddpsim");
    });
});
