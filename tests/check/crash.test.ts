/**
 * The lost-node run's kill where the CLI cannot signal a node's main process itself (a CI runner's user, Docker in a
 * VM or in dind): a helper container in the engine's PID namespace sends SIGKILL, and Docker's restart policy brings
 * the container back, as after a real crash (`docker kill` would be a manual stop, which the policy ignores).
 */
import * as assert from "assert";
import { killFromHelper } from "../../cli/check/crash";
import { ensureCpuImage } from "../support/cpuImage";
import { docker } from "../support/dockerObjects";
import { waitFor } from "../support/wait";

describe("check: killing a node's main process from a helper container (real Docker)", function () {
    this.timeout(300_000);
    let id: string | undefined;

    after(async () => {
        if (id !== undefined) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    });

    it("kills PID 1 of a container running as uid 1000, and Docker restarts it", async () => {
        const image = await ensureCpuImage();
        const container = await docker.createContainer({
            Image: image,
            Cmd: ["python3", "-c", "import time; time.sleep(600)"],
            Labels: { "ddpsim.helper": "check-crash-test" },
            HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 }, NetworkMode: "none" },
        });
        id = container.id;
        await container.start();
        const before = await container.inspect();
        assert.strictEqual(before.Config.User, "1000:1000", "the CPU image's user, as every node's");
        const made = await killFromHelper(docker, { id });
        assert.match(made.what, new RegExp(`^SIGKILL to its main process \\(pid ${before.State.Pid} on the Docker host\\) from a helper container`));
        const after = await waitFor("Docker's restart", 60_000, async () => {
            const info = await container.inspect();
            return info.RestartCount >= 1 && info.State.Running ? info : undefined;
        }, 250);
        assert.notStrictEqual(after.State.Pid, before.State.Pid);
        assert.strictEqual(after.RestartCount, 1);
        const helpers = await docker.listContainers({ all: true, filters: { label: ["ddpsim.helper=check-crash"] } });
        assert.deepStrictEqual(helpers, [], "the helper container is removed");
    });
});
