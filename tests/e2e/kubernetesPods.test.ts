/**
 * The Kubernetes Job's pod template, run for real, without Kubernetes: containers on the local Docker engine (CPU
 * image) play the Job's pods, so that this runs in `npm test` without a cluster (tests/kubernetes runs the same
 * template on a real one). Each one is what the kubelet would start for index i: host name `<job>-<i>`, the DNS name `<job>-<i>.<service>` (here a network alias), the
 * template's env and command expanded with Kubernetes' rules for JOB_COMPLETION_INDEX = i and a run id, the run volume
 * at /workspace and /checkpoints, the pod's capabilities. What this proves: the command and environment the manifests
 * carry rendezvous, and with 12 nodes every GROUP_RANK is the Job index (training/indexed_node.py's names); a usage
 * error stops for good, and a replacement pod of the same run repeats the verdict from the run volume. What it does
 * not: the scheduler, the Job controller and its podFailurePolicy, the Service's DNS records, volume provisioning.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultOwner } from "../../components/owner";
import { expandKubernetes } from "../../components/targets/indexedTemplate";
import { kubernetesManifests, planForKubernetes } from "../../components/targets/kubernetes";
import { checkKubernetesArgs } from "../../components/targets/kubernetesSettings";
import { logsOf, volumeDir, waitForExit } from "../support/clusterRuns";
import { ensureCpuImage } from "../support/cpuImage";
import { docker, purgeStack } from "../support/dockerObjects";
import { PROJECT } from "../support/realStack";
import { REPO_ROOT } from "../support/stackFiles";

const PROBE_DIR = path.join(REPO_ROOT, "tests", "fixtures", "scripts", "probe");

describe("the Kubernetes pod template, played by Docker containers (no Kubernetes)", function () {
    this.timeout(900_000);
    const stack = `k8s-pods-${crypto.randomBytes(3).toString("hex")}`;
    after(() => purgeStack(PROJECT, stack));

    /** Starts the pods of `indices` as the kubelet would start them; returns their container names. */
    async function startPods(
        cluster: string,
        args: Record<string, unknown>,
        indices: number[],
        runId: string,
        attempt = 0,
    ): Promise<{ names: string[]; job: string }> {
        const image = await ensureCpuImage();
        const checked = checkKubernetesArgs({ image, shmSizeMb: 256, ...args }, REPO_ROOT);
        assert.ok(checked.ok);
        const plan = planForKubernetes(checked.spec, { owner: defaultOwner(), project: PROJECT, stack, cluster });
        const { job, service, files } = kubernetesManifests(plan, checked.settings);
        // The kubelet: the ConfigMap's keys as files of a read-only volume, at the container's mount path.
        const filesDir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-k8s-files-"));
        for (const [name, text] of Object.entries(files.data!)) fs.writeFileSync(path.join(filesDir, name), text, { mode: 0o644 });
        fs.chmodSync(filesDir, 0o755);
        const jobName = job.metadata!.name!;
        const serviceName = service.metadata!.name!;
        const container = job.spec!.template.spec!.containers[0];
        const labels = { ...job.spec!.template.metadata!.labels };
        const volume = `${jobName}-checkpoints`;
        if (!(await docker.listNetworks({ filters: { name: [jobName] } })).some((n) => n.Name === jobName)) {
            await docker.createNetwork({ Name: jobName, Driver: "bridge", Labels: labels });
            await docker.createVolume({ Name: volume, Labels: labels });
        }
        const names: string[] = [];
        for (const i of indices) {
            // The kubelet: fieldRef values, each env value expanded with the variables before it, the command with all.
            const vars: Record<string, string> = {};
            for (const e of container.env!) {
                if (e.name === "JOB_COMPLETION_INDEX") vars[e.name] = String(i);
                else if (e.name === "DDPSIM_RUN_ID") vars[e.name] = runId;
                else vars[e.name] = expandKubernetes(e.value!, { ...vars });
            }
            const command = container.command!.map((word) => expandKubernetes(word, vars));
            const host = `${jobName}-${i}`;
            const name = attempt === 0 ? host : `${host}-retry${attempt}`;
            const created = await docker.createContainer({
                name,
                Hostname: host,
                Image: image,
                Entrypoint: command,
                Cmd: [],
                WorkingDir: container.workingDir,
                Env: Object.entries(vars).map(([k, v]) => `${k}=${v}`),
                Labels: labels,
                HostConfig: {
                    NetworkMode: jobName,
                    Mounts: [
                        ...container.volumeMounts!.filter((m) => m.name === "workspace").map((m) => ({ Type: "volume" as const, Source: volume, Target: m.mountPath })),
                        ...container.volumeMounts!.filter((m) => m.name === "ddpsim-files").map((m) => ({ Type: "bind" as const, Source: filesDir, Target: m.mountPath, ReadOnly: true })),
                        { Type: "bind" as const, Source: PROBE_DIR, Target: "/code", ReadOnly: true }, // the code "in the image"
                    ],
                    ShmSize: 256 * 1024 * 1024,
                    CapDrop: container.securityContext!.capabilities!.drop,
                    CapAdd: container.securityContext!.capabilities!.add,
                    SecurityOpt: ["no-new-privileges:true"],
                },
                NetworkingConfig: { EndpointsConfig: { [jobName]: { Aliases: [`${host}.${serviceName}`] } } },
            });
            names.push(name);
            await created.start();
        }
        return { names, job: jobName };
    }

    it("rendezvous 12 pods whose GROUP_RANK is their Job index, with the manifests' own command and env", async () => {
        const { names, job } = await startPods("ddp", { nodes: 12, script: "report.py" }, Array.from({ length: 12 }, (_, i) => i), crypto.randomUUID());
        const codes = await waitForExit(names, 600_000);
        const logs = await Promise.all(names.map(logsOf));
        assert.deepStrictEqual(codes, names.map(() => 0), logs.join("\n---\n").slice(-4000));
        logs.forEach((log, i) => {
            const probe = log.match(/^PROBE host=(\S+) GROUP_RANK=(\d+) RANK=(\d+) NODE_RANK=(\d+) WORLD_SIZE=(\d+) sum=(\d+) cwd=(\S+) code=(\S+)$/m);
            assert.ok(probe, log);
            const [, host, groupRank, rank, nodeRank, world, sum, cwd] = probe;
            assert.deepStrictEqual([host, groupRank, rank, nodeRank, world, sum, cwd], [`${job}-${i}`, String(i), String(i), String(i), "12", "12", "/workspace"]);
        });
    });

    it("stops a usage error for good; a replacement pod of the same Job repeats the verdict without running the script", async () => {
        const runId = crypto.randomUUID();
        const args = { nodes: 2, script: "no-such-script.py" };
        const first = await startPods("fail", args, [0, 1], runId);
        const codes = await waitForExit(first.names, 300_000);
        const logs = await Promise.all(first.names.map(logsOf));
        assert.ok(codes.includes(2) && codes.every((c) => c === 2 || c === 143), `${codes}\n${logs.join("\n---\n").slice(-3000)}`);
        assert.match(logs.join("\n"), /DDPSIM_VERDICT \{.*"exitCode": 2/);
        // The Job would replace a failed pod (same index, same host name, same run id, an empty /tmp): its node agent
        // finds the run's first verdict on the run volume and repeats it (its own code, or 143 for a peer's).
        const failed = codes.indexOf(2);
        const retry = await startPods("fail", args, [failed], runId, 1);
        const [retryCode] = await waitForExit(retry.names, 120_000);
        const retryLog = await logsOf(retry.names[0]);
        const repeated = retryCode === 2 ? /not starting again: this node failed for good \(.*can't open file '\/code\/no-such-script.py'/ : /^DDPSIM_VERDICT \{.*can't open file '\/code\/no-such-script.py'.*"stoppedBy"/m;
        assert.ok(retryCode === 2 || retryCode === 143, retryLog);
        assert.match(retryLog, repeated);
        const lines = retryLog.trim().split("\n");
        assert.ok(lines.every((l) => l.startsWith("[ddpsim ") || l.startsWith("DDPSIM_VERDICT ")), `torchrun ran again:\n${retryLog}`);
        // The agent's own record is on the run volume, in the run's folder (stateDir), where a new pod finds it.
        const state = path.join(await volumeDir(`${first.job}-checkpoints`), ".ddpsim", runId, `node-${failed}`, "verdict.json");
        assert.strictEqual(JSON.parse(fs.readFileSync(state, "utf8")).exitCode, 2);
    });
});
