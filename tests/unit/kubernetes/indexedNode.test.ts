/**
 * training/indexed_node.py run for real on this machine's python3: the names pods give torchrun's c10d rendezvous
 * (PET_LOCAL_ADDR) sort in index order, so the rendezvous' GROUP_RANK is JOB_COMPLETION_INDEX; the program waits for
 * its pod's DNS name, then becomes the node agent in the same process.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { packageTrainingDir } from "../../../components/plan";

const PROGRAM = path.join(packageTrainingDir(), "indexed_node.py");
const TEMPLATE = "ddpsim-dev-ddp-0a1b2c-{index}.ddpsim-dev-ddp-0a1b2c";

function localAddresses(nodes: number): string[] {
    const code = [
        "import importlib.util, json, sys",
        `spec = importlib.util.spec_from_file_location("indexed_node", ${JSON.stringify(PROGRAM)})`,
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
        `print(json.dumps([m.local_address(${JSON.stringify(TEMPLATE)}, i, ${nodes}) for i in range(${nodes})]))`,
    ].join("\n");
    const run = spawnSync("python3", ["-c", code], { encoding: "utf8" });
    assert.strictEqual(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
}

describe("training/indexed_node.py: a pod of the Indexed Job becomes node JOB_COMPLETION_INDEX", function () {
    this.timeout(20_000);

    const names: [number, number, string][] = [
        [1, 0, "ddpsim-dev-ddp-0a1b2c-0.ddpsim-dev-ddp-0a1b2c"],
        [10, 9, "ddpsim-dev-ddp-0a1b2c-9.ddpsim-dev-ddp-0a1b2c"],
        [12, 0, "ddpsim-dev-ddp-0a1b2c-0.ddpsim-dev-ddp-0a1b2c"],
        [12, 2, "ddpsim-dev-ddp-0a1b2c-02.ddpsim-dev-ddp-0a1b2c"],
        [12, 11, "ddpsim-dev-ddp-0a1b2c-11.ddpsim-dev-ddp-0a1b2c"],
        [256, 7, "ddpsim-dev-ddp-0a1b2c-007.ddpsim-dev-ddp-0a1b2c"],
    ];
    for (const [nodes, index, expected] of names) {
        it(`gives node ${index} of ${nodes} the rendezvous name ${expected}`, () => {
            assert.strictEqual(localAddresses(nodes)[index], expected);
        });
    }

    for (const nodes of [1, 2, 9, 10, 11, 12, 100, 101, 256]) {
        it(`sorts the names of ${nodes} node(s) in index order, as c10d sorts them to number the nodes`, () => {
            const addresses = localAddresses(nodes);
            assert.deepStrictEqual([...addresses].sort(), addresses);
            assert.strictEqual(new Set(addresses).size, nodes);
        });
    }

    it("sets PET_LOCAL_ADDR and runs the rest of its arguments in the same process (the agent stays PID 1)", () => {
        const config = JSON.stringify({ address: "127.0.0.{index}", nodes: 12, dnsWaitSeconds: 5 });
        const probe = 'import json, os, sys; print(json.dumps([os.getpid(), sys.argv[1:], os.environ["PET_LOCAL_ADDR"]]))';
        const run = spawnSync("python3", [PROGRAM, config, "python3", "-c", probe, "--flag", "$(x)"], {
            encoding: "utf8",
            env: { ...process.env, JOB_COMPLETION_INDEX: "3" },
        });
        assert.strictEqual(run.status, 0, run.stderr);
        assert.deepStrictEqual(JSON.parse(run.stdout), [run.pid, ["--flag", "$(x)"], "127.0.0.03"]);
    });

    it("gives up with exit 69 and the Service to look for when its name never resolves", () => {
        const config = JSON.stringify({ address: "ddpsim-no-such-{index}.invalid", nodes: 2, dnsWaitSeconds: 1 });
        const run = spawnSync("python3", [PROGRAM, config, "true"], { encoding: "utf8", env: { ...process.env, JOB_COMPLETION_INDEX: "1" } });
        assert.strictEqual(run.status, 69);
        assert.match(run.stdout, /^\[ddpsim \S+\] waiting for ddpsim-no-such-1\.invalid to resolve \(a record of the headless Service\)\n$/);
        assert.match(run.stderr, /ddpsim-no-such-1\.invalid did not resolve within 1 s: is the headless Service invalid in this pod's namespace/);
    });

    it("stops at once on SIGTERM while it waits (a pod deleted before its name exists)", async () => {
        const config = JSON.stringify({ address: "ddpsim-no-such-{index}.invalid", nodes: 2, dnsWaitSeconds: 60 });
        const child = spawn("python3", [PROGRAM, config, "true"], { env: { ...process.env, JOB_COMPLETION_INDEX: "0" } });
        await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
        const started = Date.now();
        child.kill("SIGTERM");
        const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
        assert.strictEqual(code, 143);
        assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    });
});
