/**
 * scripts/plainDockerScript.ts writes a stack's cluster as a bash script of docker commands for another checkout
 * (training/gpu_docker_on_device.sh runs it on a GPU machine): run by bash, with `docker` recording its arguments,
 * each command gets exactly the arguments scripts/plainDocker.ts gives, with the repository moved to $DDPSIM_REPO.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../scripts/plainDockerScript";

const root = path.resolve(__dirname, "..", "..");

describe("plain docker script (scripts/plainDockerScript.ts)", () => {
    let tmp: string;
    before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-plain-script-"))));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("runs under bash as the plan's docker commands, the checkout's folder replaced by $DDPSIM_REPO", () => {
        const config = path.join(tmp, "Pulumi.dev.yaml");
        const stackFile = fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8");
        fs.writeFileSync(config, stackFile.replace("config:\n", "config:\n  ddpsim:gpuIds: [\"0\"]\n  ddpsim:gpuSharing: true\n"));
        const script = path.join(tmp, "plain.sh");
        assert.strictEqual(main(["--config-file", config, "--out", script], () => undefined), 0);

        // Each docker call: its arguments, one per NUL-terminated record, then a line "END".
        const record = path.join(tmp, "calls");
        const driver = `docker() { printf '%s\\0' "$@" >> "${record}"; printf 'END\\0' >> "${record}"; }
            source "${script}"; printf '%s\\n' "$NETWORK" "$VOLUME" "\${CONTAINERS[@]}"`;
        const vars = execFileSync("bash", ["-c", driver], { env: { ...process.env, DDPSIM_REPO: "/elsewhere" } })
            .toString().trim().split("\n");
        const calls = fs.readFileSync(record, "utf8").split("END\0").filter((c) => c !== "").map((c) => c.split("\0").slice(0, -1));

        assert.deepStrictEqual(calls.map((c) => c[0]), ["network", "volume", "run", "run"]);
        assert.strictEqual(calls[0][calls[0].length - 1], vars[0]);
        assert.strictEqual(calls[1][calls[1].length - 1], vars[1]);
        for (const [i, call] of calls.slice(2).entries()) {
            const at = (flag: string) => call.filter((_, j) => call[j - 1] === flag);
            assert.deepStrictEqual(at("--name"), [vars[2 + i]]);
            assert.deepStrictEqual(at("--gpus"), ['"device=0"']);
            assert.ok(at("--mount").includes("type=bind,source=/elsewhere/training,target=/code,readonly"), at("--mount").join(" "));
            // The node agent: the checkout's file, mounted read-only where the command starts it.
            assert.ok(at("--mount").includes("type=bind,source=/elsewhere/training/node_agent.py,target=/opt/ddpsim/node_agent.py,readonly"), at("--mount").join(" "));
            const python = call.indexOf("python3");
            assert.deepStrictEqual(call.slice(python, python + 2), ["python3", "/opt/ddpsim/node_agent.py"]);
            assert.strictEqual(JSON.parse(call[python + 2]).rank, i, "the agent's config as one JSON argument");
        }
        assert.ok(!fs.readFileSync(script, "utf8").includes(root), "the checkout's own folder is not in the script");
    });
});
