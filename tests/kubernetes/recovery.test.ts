/**
 * Failures on the real cluster: a pod deleted mid-run is replaced by the Job and training resumes from the claim's
 * checkpoint, ending with the parameters of an undisturbed run, bit for bit; a usage error ends the Job as failed
 * through its podFailurePolicy, at once and with no retry; `pulumi destroy` removes the Job, the Service and the pods
 * and keeps the claim, and the next `pulumi up` resumes from it.
 */
import * as assert from "assert";
import { KubernetesLab } from "./lab";
import { waitFor } from "../support/wait";

const STEPS = 40;
const TRAIN = ["--steps", String(STEPS), "--checkpoint-every", "5", "--log-every", "5"];
/** Slowed down so that a deletion lands mid-run; sleeping changes no arithmetic. */
const SLOW = [...TRAIN, "--step-sleep", "0.5"];
const USAGE_ERROR = "train_ddp.py: error: argument --steps: invalid positive_int value: 'abc'";

describe("kubernetes: failures, destroy and resume (real cluster, pulumi up)", function () {
    let lab: KubernetesLab;
    let reference: Promise<string> | undefined;
    before(async () => {
        lab = await KubernetesLab.open();
    });
    after(() => lab?.close());

    /** The checksum of the same training, undisturbed, on the same cluster (one run per suite). */
    function referenceChecksum(): Promise<string> {
        reference ??= (async () => {
            const stack = lab.newStack("reference", { "ddpsim:scriptArgs": TRAIN });
            await lab.pulumi("up", stack);
            const outputs = await lab.outputs(stack);
            const end = await lab.finished(outputs.jobName);
            assert.strictEqual(end.status, "Complete", end.message);
            const result = await lab.result(outputs.checkpointVolumeName);
            assert.deepStrictEqual([result.final_step, result.agree, result.resumed_from_step], [STEPS, true, null]);
            console.log(`      figure: undisturbed reference run (2 pods): ${end.seconds.toFixed(1)} s, checksum ${result.checksum}`);
            return result.checksum as string;
        })();
        return reference;
    }

    it("a pod deleted mid-run is replaced and the run resumes from the checkpoint, with the undisturbed parameters", async () => {
        const expected = await referenceChecksum();
        const stack = lab.newStack("delete", { "ddpsim:scriptArgs": SLOW, "ddpsim:collectiveTimeoutSeconds": 20 });
        await lab.pulumi("up", stack);
        const { jobName: job, checkpointVolumeName: claim } = await lab.outputs(stack);
        await lab.waitForStep(claim, 12);
        const [victim] = (await lab.pods(job)).filter((p) => p.metadata!.annotations!["batch.kubernetes.io/job-completion-index"] === "0");
        const deletedAt = Date.now() / 1000;
        await lab.core.deleteNamespacedPod({ name: victim.metadata!.name!, namespace: "default" });
        const replaced = await waitFor("a new pod of index 0", 120_000, async () => {
            const now = (await lab.pods(job)).filter((p) => p.metadata!.annotations!["batch.kubernetes.io/job-completion-index"] === "0");
            return now.find((p) => p.metadata!.uid !== victim.metadata!.uid);
        });
        assert.strictEqual(replaced.metadata!.name!.startsWith(`${job}-0-`), true, replaced.metadata!.name);
        const end = await lab.finished(job);
        const pods = await lab.pods(job);
        const logs = await Promise.all(pods.map((p) => lab.log(p.metadata!.name!).catch((e) => String(e))));
        assert.strictEqual(end.status, "Complete", `${end.reason}: ${end.message}\n${logs.join("\n---\n").slice(-5000)}`);
        const result = await lab.result(claim);
        assert.strictEqual(result.final_step, STEPS);
        assert.ok(result.resumed_from_step > 0, `resumed from a checkpoint, not from the start: ${JSON.stringify(result)}`);
        assert.strictEqual(result.checksum, expected, "same parameters as an undisturbed run");
        const metrics = lab.metrics(claim);
        const resumed = (await metrics).find((m) => m.time > deletedAt && m.step === result.resumed_from_step + 1);
        assert.ok(resumed !== undefined, "a step after the deletion");
        console.log(
            `      figure: pod 0 deleted at step >= 12: replaced, training again from step ${result.resumed_from_step + 1} ` +
                `${(resumed.time - deletedAt).toFixed(1)} s after the deletion; Job complete after ${end.seconds.toFixed(1)} s`,
        );
    });

    it("a usage error fails the Job through podFailurePolicy within 60 s, with no retry", async () => {
        const stack = lab.newStack("usage", { "ddpsim:scriptArgs": ["--steps", "abc"] });
        await lab.pulumi("up", stack);
        const { jobName: job } = await lab.outputs(stack);
        const end = await lab.finished(job, 120_000);
        const pods = await lab.pods(job);
        const logs = await Promise.all(pods.map((p) => lab.log(p.metadata!.name!)));
        assert.deepStrictEqual([end.status, end.reason], ["Failed", "PodFailurePolicy"], `${end.message}\n${logs.join("\n---\n").slice(-3000)}`);
        assert.match(end.message, /exit code 2/);
        assert.ok(end.seconds < 60, `failed after ${end.seconds} s`);
        // No retry: no index got a second pod, and the Job counted no more pods than nodes. (The Job controller deletes
        // the peers it stops, so a peer's pod may be gone.)
        const indexes = pods.map((p) => p.metadata!.annotations!["batch.kubernetes.io/job-completion-index"]);
        assert.strictEqual(new Set(indexes).size, indexes.length, `one pod per index: ${pods.map((p) => p.metadata!.name).join(", ")}`);
        const counted = await lab.job(job);
        assert.ok((counted!.status!.failed ?? 0) + (counted!.status!.succeeded ?? 0) <= 2, JSON.stringify(counted!.status));
        assert.ok(logs.some((log) => log.includes(USAGE_ERROR)), logs.join("\n---\n").slice(-3000));
        assert.ok(logs.some((log) => /^DDPSIM_VERDICT \{.*"exitCode": 2/m.test(log)), "the node agent's verdict");
        console.log(`      figure: usage error: Job failed (${end.reason}) ${end.seconds.toFixed(1)} s after it started`);
    });

    it("pulumi destroy removes the Job, Service and pods and keeps the claim; the next up resumes from it", async () => {
        const expected = await referenceChecksum();
        const stack = lab.newStack("destroy", { "ddpsim:scriptArgs": SLOW });
        await lab.pulumi("up", stack);
        const { jobName: job, serviceName: service, checkpointVolumeName: claim } = await lab.outputs(stack);
        const claimUid = (await lab.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: "default" })).metadata!.uid;
        await lab.waitForStep(claim, 10);
        const destroyed = await lab.pulumi("destroy", stack);
        assert.strictEqual(await lab.job(job), undefined, "the Job is gone when destroy returns");
        await assert.rejects(lab.core.readNamespacedService({ name: service, namespace: "default" }), (e: any) => e.code === 404);
        assert.deepStrictEqual((await lab.pods(job)).map((p) => p.metadata!.name), [], "so are its pods");
        const kept = await lab.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: "default" });
        assert.deepStrictEqual([kept.metadata!.uid, kept.status!.phase], [claimUid, "Bound"], "the same claim, still bound");
        const stoppedAt = Math.max(...(await lab.steps(claim)));
        assert.ok(stoppedAt < STEPS, `stopped mid-run (step ${stoppedAt})`);

        await lab.pulumi("up", stack);
        const again = await lab.outputs(stack);
        assert.strictEqual(again.checkpointVolumeName, claim);
        const end = await lab.finished(again.jobName);
        assert.strictEqual(end.status, "Complete", end.message);
        const result = await lab.result(claim);
        assert.deepStrictEqual([result.final_step, result.resumed_from_step], [STEPS, stoppedAt], "resumed from the step destroy stopped at");
        assert.strictEqual(result.checksum, expected, "same parameters as an undisturbed run");
        console.log(`      figure: destroy at step ${stoppedAt} took ${destroyed.seconds.toFixed(1)} s: claim kept, the next up resumed from it and finished`);
    });
});
