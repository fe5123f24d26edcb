/**
 * Meaningful previews: the stack program run from two checkouts at different paths (a laptop and a CI runner) must
 * declare identical resource inputs when the code and config are the same (codeMode "image"), and a change of one
 * setting must change only the resources it concerns.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RegisteredResource, runStackProgram, useMocks } from "../support/pulumiMocks";
import { REPO_ROOT, stackConfig } from "../support/stackFiles";

/** A checkout of the parts the stack program needs, at a path of its own (node_modules linked, not copied). */
function checkout(parent: string, name: string): string {
    const dir = path.join(parent, name);
    fs.mkdirSync(dir, { recursive: true });
    for (const entry of ["index.ts", "Pulumi.yaml", "Pulumi.cpu.yaml", "package.json", "tsconfig.json", "components", "training"]) {
        fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), {
            recursive: true,
            filter: (src) => !src.includes(`${path.sep}__pycache__`),
        });
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

/** The stack program of a checkout under mocks, run from that checkout (as `pulumi up` runs it): every resource. */
async function declared(dir: string, overrides: Record<string, unknown>): Promise<RegisteredResource[]> {
    const before = process.cwd();
    process.chdir(dir);
    try {
        const registered = await useMocks(stackConfig("cpu", overrides), { stack: "cpu" });
        await runStackProgram(path.join(dir, "index.ts"));
        return registered;
    } finally {
        process.chdir(before);
    }
}

const byName = (resources: RegisteredResource[]) =>
    Object.fromEntries(resources.map((r) => [`${r.type}::${r.name}`, r.inputs]));

describe("previews from two checkouts, and what one change changes", function () {
    this.timeout(120_000);
    let parent: string;
    let laptop: string;
    let runner: string;

    before(() => {
        parent = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-checkouts-"));
        laptop = checkout(parent, "home-ann-ddpsim");
        runner = checkout(parent, "ci-runner-work-ddpsim-ddpsim");
    });
    after(() => fs.rmSync(parent, { recursive: true, force: true }));

    it("codeMode image: the same inputs for every resource from both checkouts", async () => {
        const settings = { "ddpsim:codeMode": "image", "ddpsim:scriptArgs": ["--steps", "20"] };
        const a = byName(await declared(laptop, settings));
        const b = byName(await declared(runner, settings));
        assert.deepStrictEqual(Object.keys(a).sort(), Object.keys(b).sort());
        assert.deepStrictEqual(a, b);
        const code = a["docker:index/remoteImage:RemoteImage::ddp-code"];
        assert.match(code.name, /^ddpsim-cpu-code:[0-9a-f]{16}$/);
        assert.deepStrictEqual(code.build, { context: `.ddpsim/code-layers/${code.name.split(":")[1]}`, dockerfile: "Dockerfile", buildArgs: { BASE: "ddpsim-cpu:latest" } });
        const node = a["docker:index/container:Container::ddp-node-1"];
        assert.strictEqual(node.image, code.name);
        assert.ok(node.mounts.every((m: { type: string }) => m.type === "volume"), "no host path in a node");
    });

    it("codeMode mount: the bind mount names the checkout's path, so the nodes differ", async () => {
        const a = byName(await declared(laptop, {}));
        const b = byName(await declared(runner, {}));
        const mountOf = (d: Record<string, any>) => d["docker:index/container:Container::ddp-node-0"].mounts[0].source;
        assert.strictEqual(mountOf(a), path.join(laptop, "training"));
        assert.strictEqual(mountOf(b), path.join(runner, "training"));
    });

    it("a change to the code gives a new layer and new nodes; nothing else changes", async () => {
        const settings = { "ddpsim:codeMode": "image" };
        const before = byName(await declared(laptop, settings));
        fs.appendFileSync(path.join(laptop, "training", "train_ddp.py"), "\n# an edit\n");
        const after = byName(await declared(laptop, settings));
        const changed = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
        assert.deepStrictEqual(changed.sort(), [
            "docker:index/container:Container::ddp-node-0",
            "docker:index/container:Container::ddp-node-1",
            "docker:index/remoteImage:RemoteImage::ddp-code",
            "random:index/randomId:RandomId::ddp-run",
        ]);
    });

    const changes: [string, Record<string, unknown>, string[]][] = [
        [
            "scriptArgs: the run id and the nodes",
            { "ddpsim:scriptArgs": ["--steps", "30"] },
            ["docker:index/container:Container::ddp-node-0", "docker:index/container:Container::ddp-node-1", "random:index/randomId:RandomId::ddp-run"],
        ],
        [
            "retainCheckpoints: nothing the engine sees (a resource option)",
            { "ddpsim:retainCheckpoints": false },
            [],
        ],
        [
            "shmSizeMb: the run id and the nodes",
            { "ddpsim:shmSizeMb": 1024 },
            ["docker:index/container:Container::ddp-node-0", "docker:index/container:Container::ddp-node-1", "random:index/randomId:RandomId::ddp-run"],
        ],
    ];
    for (const [what, overrides, expected] of changes) {
        it(`changing ${what}`, async () => {
            const base = byName(await declared(runner, { "ddpsim:codeMode": "image" }));
            const changed = byName(await declared(runner, { "ddpsim:codeMode": "image", ...overrides }));
            const differing = Object.keys(base).filter((k) => JSON.stringify(base[k]) !== JSON.stringify(changed[k]));
            assert.deepStrictEqual(differing.sort(), expected);
        });
    }
});
