/**
 * Stacks with `ddpsim:target: kubernetes`, brought up with `pulumi up` on the real one-node cluster: the Job
 * controller makes the pods, the scheduler places them, the kubelet runs them, CoreDNS answers the headless Service's
 * names, the claim binds to a volume. 2 and 3 pods train to the end; every pod's GROUP_RANK is its completion index;
 * every pod resolves every other pod's name to that pod's address.
 */
import * as assert from "assert";
import { KubernetesLab, peersReports } from "./lab";

export const TRAIN = ["--steps", "20", "--checkpoint-every", "5", "--log-every", "5"];

describe("kubernetes: an Indexed Job trains (real cluster, pulumi up)", function () {
    let lab: KubernetesLab;
    before(async () => {
        lab = await KubernetesLab.open();
    });
    after(() => lab?.close());

    for (const nodes of [2, 3]) {
        it(`${nodes} pods train to the end; ranks equal the completion index; each resolves the others through the Service`, async () => {
            const stack = lab.newStack(`train${nodes}`, { "ddpsim:nodes": nodes, "ddpsim:script": "k8s_peers.py", "ddpsim:scriptArgs": TRAIN });
            const up = await lab.pulumi("up", stack);
            const outputs = await lab.outputs(stack);
            assert.strictEqual(outputs.target, "kubernetes");
            const job: string = outputs.jobName;
            const end = await lab.finished(job);
            const pods = await lab.pods(job);
            const logs = await Promise.all(pods.map((p) => lab.log(p.metadata!.name!)));
            assert.deepStrictEqual([end.status, end.reason], ["Complete", "CompletionsReached"], logs.join("\n---\n").slice(-4000));
            assert.strictEqual(pods.length, nodes, "one pod per node, none replaced");
            const ips = pods.map((p) => p.status!.podIP!);
            pods.forEach((pod, i) => {
                assert.strictEqual(pod.status!.phase, "Succeeded");
                assert.strictEqual(pod.spec!.hostname, `${job}-${i}`);
                const [report] = peersReports(logs[i]);
                assert.ok(report !== undefined, logs[i]);
                assert.deepStrictEqual([report.host, report.index, report.groupRank, report.nodeRank], [`${job}-${i}`, String(i), String(i), String(i)]);
                const expected = Object.fromEntries(ips.map((ip, j) => [`${job}-${j}.${job}`, ip]));
                assert.deepStrictEqual(report.peers, expected, `pod ${i} resolved its peers`);
            });
            const result = await lab.result(outputs.checkpointVolumeName);
            assert.deepStrictEqual([result.final_step, result.world_size, result.nodes, result.agree], [20, nodes, nodes, true]);
            assert.match(logs[0], /all ranks agree/);
            const firstStep = await lab.firstStepSeconds(job, outputs.checkpointVolumeName);
            console.log(
                `      figure: ${nodes} pods: pulumi up ${up.seconds.toFixed(1)} s, Job start to first step ${firstStep.toFixed(1)} s, ` +
                    `Job start to Complete ${end.seconds.toFixed(1)} s`,
            );
        });
    }
});

