/**
 * The start-up benchmark's baseline (scripts/plainDocker.ts): `docker run` of the plan's nodes gives each container
 * what the stack program gives it, checked against the container inputs the program registers under mocks.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planStack } from "../../scripts/compose";
import { readStackFiles } from "../../scripts/stackFiles";
import { dockerRunArgs, networkCreateArgs, volumeCreateArgs } from "../../scripts/plainDocker";
import { MOCK_RUN_ID, runStackProgram, useMocks } from "../support/pulumiMocks";

const root = path.resolve(__dirname, "..", "..");

/** `docker run` flags (name -> values, in order), the image and the command. */
function parseRun(args: string[], image: string) {
    assert.deepStrictEqual(args.slice(0, 2), ["run", "--detach"]);
    const flags = new Map<string, string[]>();
    let i = 2;
    for (; args[i] !== image; i += 2) {
        assert.ok(args[i].startsWith("--"), `a flag at ${i}: ${args[i]}`);
        flags.set(args[i], [...(flags.get(args[i]) ?? []), args[i + 1]]);
    }
    return { flags, command: args.slice(i + 1) };
}

describe("plain docker commands from a plan (the start-up benchmark's baseline)", () => {
    let tmp: string;
    before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-plain-"))));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    for (const [title, extra] of [
        ["the cpu stack", ""],
        ["the cpu stack with a 100 Mbit/s interconnect (root, NET_ADMIN)", "  ddpsim:interconnect: 100mbit\n"],
    ]) {
        it(`docker run gives each node of ${title} what the stack program gives its container`, async () => {
            const file = path.join(tmp, "Pulumi.cpu.yaml");
            const stackFile = fs.readFileSync(path.join(root, "Pulumi.cpu.yaml"), "utf8");
            fs.writeFileSync(file, stackFile.replace("config:\n", `config:\n${extra}  ddpsim:owner: ann\n`));
            const files = readStackFiles(root, "cpu", file);
            const config = Object.fromEntries(Object.entries(files.config).map(([k, v]) => [`ddpsim:${k}`, v]));
            const registered = await useMocks(config, { stack: "cpu" });
            await runStackProgram(path.join(root, "index.ts"));
            const containers = registered.filter((r) => r.type === "docker:index/container:Container").map((r) => r.inputs);
            const planned = planStack(files, root);
            assert.ok(planned.ok);
            const plan = planned.plan;
            assert.strictEqual(containers.length, plan.nodes.length);
            plan.nodes.forEach((node, i) => {
                const c = containers[i];
                const names = { container: `${node.containerNameBase}-plain`, network: "the-net", runId: MOCK_RUN_ID, image: "IMAGE" };
                const { flags, command } = parseRun(dockerRunArgs(plan, node, names), "IMAGE");
                const one = (flag: string) => flags.get(flag)?.[0];
                assert.strictEqual(one("--name"), names.container);
                assert.strictEqual(one("--hostname"), c.hostname);
                assert.strictEqual(one("--network"), "the-net");
                assert.deepStrictEqual(flags.get("--network-alias"), c.networksAdvanced[0].aliases);
                assert.deepStrictEqual(flags.get("--env"), c.envs);
                assert.deepStrictEqual(command, c.command);
                assert.strictEqual(one("--workdir"), c.workingDir);
                assert.strictEqual(one("--user"), c.user);
                // The node agent: uploaded by the provider, bind-mounted read-only by plain docker run.
                assert.deepStrictEqual(
                    flags.get("--mount"),
                    [
                        ...c.uploads.map((u: any) => `type=bind,source=${path.resolve(u.source)},target=${u.file},readonly`),
                        ...c.mounts.map((m: any) => `type=${m.type},source=${m.source},target=${m.target}${m.readOnly ? ",readonly" : ""}`),
                    ],
                );
                assert.strictEqual(one("--shm-size"), `${c.shmSize}m`);
                assert.strictEqual(one("--restart"), `${c.restart}:${c.maxRetryCount}`);
                assert.deepStrictEqual([one("--stop-signal"), one("--stop-timeout")], [c.stopSignal, String(c.stopTimeout)]);
                assert.deepStrictEqual(flags.get("--label"), c.labels.map((l: any) => `${l.label}=${l.value}`));
                assert.deepStrictEqual([flags.get("--cap-add") ?? [], flags.get("--cap-drop") ?? []], [c.capabilities.adds ?? [], c.capabilities.drops ?? []]);
                assert.deepStrictEqual(flags.get("--security-opt"), c.securityOpts);
                if (node.role === "master") {
                    const [form, ...probe] = c.healthcheck.tests;
                    assert.strictEqual(form, "CMD");
                    // The same probe, as the one shell command the docker CLI takes.
                    assert.strictEqual(one("--health-cmd"), `${probe[0]} ${probe[1]} '${probe[2]}'`);
                    assert.deepStrictEqual(
                        ["--health-interval", "--health-timeout", "--health-start-period", "--health-retries"].map(one),
                        [c.healthcheck.interval, c.healthcheck.timeout, c.healthcheck.startPeriod, String(c.healthcheck.retries)],
                    );
                } else {
                    assert.strictEqual(c.healthcheck, undefined);
                    assert.strictEqual(flags.has("--health-cmd"), false);
                }
            });
            const labels = Object.entries(plan.labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
            assert.deepStrictEqual(networkCreateArgs(plan, "the-net"), ["network", "create", "--driver", "bridge", ...labels, "the-net"]);
            assert.deepStrictEqual(volumeCreateArgs(plan), ["volume", "create", ...labels, plan.checkpointVolumeName]);
        });
    }
});
