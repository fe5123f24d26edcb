/**
 * The Compose export, run by the real `docker-compose` (Debian's, installed by scripts/setup-docker.sh) on the CPU
 * image: the exported file trains to the end with every rank agreeing, on the same parameters as the Pulumi path,
 * and `down -v` leaves nothing behind. Cleanup runs in `after`, whatever happened.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { defaultOwner, identityTag } from "../../components";

/** The stack's Compose names: project, stack, cluster and a hash of the owner, as the component names them. */
const prefixOf = (stack: string) => `ddpsim-${stack}-ddp-${identityTag(defaultOwner(), "ddpsim", stack, "ddp")}`;
import { parse } from "yaml";
import { docker, stackObjects } from "../support/dockerObjects";
import {
    cleanUp,
    logsOf,
    resultOf,
    stackConfig,
    TrainingResult,
    uniqueStack,
    upStack,
    waitForExit,
} from "../support/clusterRuns";
import { destroyStack, PROJECT } from "../support/realStack";
import { REPO_ROOT } from "../support/stackFiles";

const run = promisify(execFile);
const TRAIN_ARGS = ["--steps", "20", "--checkpoint-every", "5", "--log-every", "10"];

interface ComposeResult extends TrainingResult {
    rank_checksums: string[];
}

describe("the Compose export run by docker-compose (CPU image)", function () {
    this.timeout(300_000);
    const stack = uniqueStack("compose");
    const pulumiStack = uniqueStack("compose-ref");
    const project = `ddpsim-${stack}`;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-compose-e2e-"));
    const file = path.join(tmp, "docker-compose.yml");
    let image: string;
    let fromCompose: ComposeResult | undefined;

    const compose = (...args: string[]) =>
        run("docker-compose", ["--ansi", "never", "-p", project, "-f", file, ...args], { cwd: tmp, timeout: 120_000 });

    before(async function () {
        await run("docker-compose", ["version"]).catch(() => {
            throw new Error("docker-compose is missing: bash scripts/setup-docker.sh installs it (apt-get install docker-compose)");
        });
        const built = await run("bash", [path.join(REPO_ROOT, "training", "cpu-image", "build.sh")], { timeout: 900_000 });
        image = built.stdout.trim().split("\n").pop() as string;
    });

    after(async () => {
        if (fs.existsSync(file)) await compose("down", "-v", "--remove-orphans", "-t", "1").catch(() => undefined);
        await destroyStack(pulumiStack).catch(() => undefined);
        await cleanUp([stack, pulumiStack]);
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("exports a 2-node CPU stack with `npm run compose` and trains it to the end with docker-compose up", async () => {
        const stackFile = path.join(tmp, `Pulumi.${stack}.yaml`);
        fs.writeFileSync(
            stackFile,
            [
                "config:",
                "  ddpsim:nodes: 2",
                "  ddpsim:imageMode: local",
                `  ddpsim:image: ${image}`,
                "  ddpsim:stopGraceSeconds: 5",
                `  ddpsim:scriptArgs: ${JSON.stringify(TRAIN_ARGS)}`,
                "",
            ].join("\n"),
        );
        await run(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", "scripts/compose.ts", "--stack", stack, "--config-file", stackFile, "--out", file],
            { cwd: REPO_ROOT },
        );
        const services = parse(fs.readFileSync(file, "utf8")).services;
        const names: string[] = Object.values(services).map((s: any) => s.container_name);
        assert.deepStrictEqual(names, [`${prefixOf(stack)}-node-0`, `${prefixOf(stack)}-node-1`]);

        await compose("up", "-d");
        // Compose created node 1 only once node 0's healthcheck passed (depends_on: service_healthy).
        const node0 = await docker.getContainer(names[0]).inspect();
        const node1 = await docker.getContainer(names[1]).inspect();
        assert.ok(Date.parse(node1.Created) > Date.parse(node0.State.StartedAt), "node 1 was created before node 0 started");

        assert.deepStrictEqual(await waitForExit(names, 180_000), [0, 0]);
        const logs = await logsOf(names[0]);
        const line = logs.split("\n").find((l) => l.startsWith("DDPSIM_RESULT "));
        assert.ok(line !== undefined, `no DDPSIM_RESULT in node 0's logs:\n${logs}`);
        fromCompose = JSON.parse(line.slice("DDPSIM_RESULT ".length)) as ComposeResult;
        assert.strictEqual(fromCompose.world_size, 2);
        assert.strictEqual(fromCompose.nodes, 2);
        assert.strictEqual(fromCompose.final_step, 20);
        assert.strictEqual(fromCompose.agree, true);
        assert.deepStrictEqual(fromCompose.rank_checksums, [fromCompose.checksum, fromCompose.checksum]);
        const saved = await resultOf(`${prefixOf(stack)}-checkpoints`);
        assert.strictEqual(saved.checksum, fromCompose.checksum);
    });

    it("draws the run's metrics with `npm run plot` (scripts/plot.sh, in the image, volume read-only)", async () => {
        assert.ok(fromCompose !== undefined, "the Compose run did not finish");
        const png = path.join(tmp, "plots", "run.png");
        const { stdout } = await run(
            "bash",
            ["scripts/plot.sh", "--volume", `${prefixOf(stack)}-checkpoints`, "--out", png, "--image", image],
            { cwd: REPO_ROOT, timeout: 120_000 },
        );
        assert.match(stdout, /wrote \/out\/run.png: world size 2, steps 1..20, 20 logged, 0 restarts/);
        const bytes = fs.readFileSync(png);
        assert.deepStrictEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        assert.ok(bytes.length > 20_000, `a ${bytes.length}-byte PNG is too small to hold the two plots`);
    });

    it("ends with the same parameters as the Pulumi path given the same stack config", async () => {
        assert.ok(fromCompose !== undefined, "the Compose run did not finish");
        const up = await upStack(
            pulumiStack,
            stackConfig("cpu", { "ddpsim:image": image, "ddpsim:stopGraceSeconds": 5, "ddpsim:scriptArgs": TRAIN_ARGS }),
        );
        assert.ok(up.ok, `up failed: ${up.stderr}`);
        assert.deepStrictEqual(await waitForExit(up.outputs.containerNames, 180_000), [0, 0]);
        const fromPulumi = await resultOf(up.outputs.checkpointVolumeName);
        assert.strictEqual(fromPulumi.world_size, fromCompose.world_size);
        assert.strictEqual(fromPulumi.checksum, fromCompose.checksum);
    });

    it("leaves nothing behind after docker-compose down -v", async () => {
        await compose("down", "-v", "-t", "1");
        const left = await stackObjects(PROJECT, stack);
        assert.deepStrictEqual(
            [left.containers.length, left.networks.length, left.volumes.length],
            [0, 0, 0],
            `left behind: ${JSON.stringify(left)}`,
        );
        const byProject = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });
        assert.strictEqual(byProject.length, 0);
    });
});
