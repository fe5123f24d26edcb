/**
 * The README's first command on a fresh copy of the repository: `bash scripts/quickstart.sh` installs or reuses what
 * it needs (here: Docker, Node.js, the CPU image and the toolchain are present; the npm packages are not), brings the
 * cpu stack up with `pulumi up` (state in the copy's .pulumi) and ends with the run's verdict; a second run reuses
 * everything. The durations are printed, not asserted.
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { docker, purgeStack } from "../support/dockerObjects";
import { REPO_ROOT } from "../support/stackFiles";

/** The repository's tracked files as they are in the work tree: what a fresh clone of this commit holds. */
function freshCopy(dir: string): string {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\0").filter((f) => f !== "");
    for (const file of files) {
        const from = path.join(REPO_ROOT, file);
        if (!fs.existsSync(from)) continue; // deleted in the work tree, not yet committed
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(from, path.join(dir, file));
        fs.chmodSync(path.join(dir, file), fs.statSync(from).mode);
    }
    return dir;
}

function quickstart(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; seconds: number }> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn("bash", ["scripts/quickstart.sh"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), 1_200_000);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, output, seconds: (Date.now() - started) / 1000 });
        });
    });
}

describe("bash scripts/quickstart.sh on a fresh copy (the README's first command)", function () {
    this.timeout(1_800_000);
    let dir: string;
    let env: NodeJS.ProcessEnv;

    before(() => {
        dir = freshCopy(fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-quickstart-")));
        // No backend from the environment: the copy's Pulumi.yaml (file://.pulumi) applies, as in a fresh clone. The
        // toolchain is cached already (the script finds it through scripts/pulumi-toolchain.sh either way).
        const { PULUMI_BACKEND_URL: _backend, PULUMI_CONFIG_PASSPHRASE: _passphrase, ...rest } = process.env;
        const withoutToolchain = (rest.PATH ?? "").split(path.delimiter).filter((d) => !fs.existsSync(path.join(d, "pulumi")));
        env = { ...rest, PATH: withoutToolchain.join(path.delimiter) };
    });

    after(async function () {
        this.timeout(300_000);
        try {
            execFileSync("bash", ["scripts/up.sh", "destroy", "--yes", "--skip-preview"], { cwd: dir, env: { ...env, STACK: "cpu" }, stdio: "ignore", timeout: 240_000 });
        } catch {
            // purged below
        }
        await purgeStack("ddpsim", "cpu");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("sets up what is missing, brings the cpu stack up and ends with the verdict and the next commands", async () => {
        await purgeStack("ddpsim", "cpu"); // a cpu stack's run volume from elsewhere would be resumed
        const first = await quickstart(dir, env);
        console.log(`      figure: first run ${first.seconds.toFixed(0)} s (npm ci included; image and toolchain cached)`);
        assert.strictEqual(first.code, 0, first.output.slice(-6000));
        for (const step of ["Docker engine", "Node.js 22 or later", "npm packages", "CPU image", "Pulumi CLI", "pulumi up of the cpu stack", "waiting for the run's verdict"]) {
            assert.match(first.output, new RegExp(`^==> \\[\\d+s\\] ${step}`, "m"), `step "${step}" announced`);
        }
        assert.match(first.output, /^verdict: succeeded: every node exited 0$/m);
        assert.match(first.output, /^result: step 100\/100, world size 2, ranks agree/m);
        assert.match(first.output, /npx ddpsim status --stack cpu/);
        assert.ok(fs.existsSync(path.join(dir, ".pulumi", ".pulumi", "stacks", "ddpsim", "cpu.json")), "the state is in the copy's .pulumi");
        assert.strictEqual(execFileSync("git", ["-C", REPO_ROOT, "show", "HEAD:Pulumi.cpu.yaml"], { encoding: "utf8" }), fs.readFileSync(path.join(dir, "Pulumi.cpu.yaml"), "utf8"), "Pulumi.cpu.yaml left as committed");
    });

    it("a second run reuses everything and reaches the verdict again", async () => {
        const second = await quickstart(dir, env);
        console.log(`      figure: second run ${second.seconds.toFixed(0)} s`);
        assert.strictEqual(second.code, 0, second.output.slice(-6000));
        assert.match(second.output, /node_modules matches package-lock\.json/);
        assert.match(second.output, /^reusing ddpsim-cpu:/m);
        assert.match(second.output, /^verdict: succeeded: every node exited 0$/m);
        const containers = await docker.listContainers({ all: true, filters: { label: ["ddpsim.project=ddpsim", "ddpsim.stack=cpu"] } });
        assert.strictEqual(containers.length, 2, "the same two nodes");
    });
});
