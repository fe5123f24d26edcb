/**
 * The Kubernetes Job's pod template, run for real, without Kubernetes: no cluster or API server can run on these
 * machines, so containers on the local Docker engine (CPU image) play the Job's pods. Each one is what the kubelet
 * would start for index i: host name `<job>-<i>`, the DNS name `<job>-<i>.<service>` (here a network alias), the
 * template's env and command expanded with Kubernetes' rules for JOB_COMPLETION_INDEX = i and a run id, the run volume
 * at /workspace and /checkpoints, the pod's capabilities. What this proves: the command and environment the manifests
 * carry rendezvous, and with 12 nodes every GROUP_RANK is the Job index (training/indexed_node.py's names). What it
 * does not: the scheduler, the Job controller, the Service's DNS records, volume provisioning.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as path from "path";
import { defaultOwner } from "../../components/owner";
import { expandKubernetes } from "../../components/targets/indexedTemplate";
import { kubernetesManifests, planForKubernetes } from "../../components/targets/kubernetes";
import { checkKubernetesArgs } from "../../components/targets/kubernetesSettings";
import { logsOf, waitForExit } from "../support/clusterRuns";
import { ensureCpuImage } from "../support/cpuImage";
import { docker, purgeStack } from "../support/dockerHarness";
import { PROJECT, REPO_ROOT } from "../support/stackRunner";

const PROBE_DIR = path.join(REPO_ROOT, "tests", "fixtures", "scripts", "probe");

describe("the Kubernetes pod template, played by Docker containers (no Kubernetes here)", function () {
    this.timeout(900_000);
    const stack = `k8s-pods-${crypto.randomBytes(3).toString("hex")}`;
    after(() => purgeStack(PROJECT, stack));

    it("rendezvous 12 pods whose GROUP_RANK is their Job index, with the manifests' own command and env", async () => {
        const image = await ensureCpuImage();
        const checked = checkKubernetesArgs({ nodes: 12, image, script: "report.py", shmSizeMb: 256 }, REPO_ROOT);
        assert.ok(checked.ok);
        const plan = planForKubernetes(checked.spec, { owner: defaultOwner(), project: PROJECT, stack, name: "ddp" });
        const { job, service } = kubernetesManifests(plan, checked.settings);
        const jobName = job.metadata!.name!;
        const serviceName = service.metadata!.name!;
        const pod = job.spec!.template.spec!;
        const container = pod.containers[0];
        const labels = { ...job.spec!.template.metadata!.labels };

        await docker.createNetwork({ Name: jobName, Driver: "bridge", Labels: labels });
        const volume = `${jobName}-checkpoints`;
        await docker.createVolume({ Name: volume, Labels: labels });
        const runId = crypto.randomUUID();
        const names: string[] = [];
        for (let i = 0; i < 12; i++) {
            // The kubelet: fieldRef values first, then each env value expanded with the variables before it, then the
            // command with all of them.
            const vars: Record<string, string> = {};
            for (const e of container.env!) {
                if (e.name === "JOB_COMPLETION_INDEX") vars[e.name] = String(i);
                else if (e.name === "DDPSIM_RUN_ID") vars[e.name] = runId;
                else vars[e.name] = expandKubernetes(e.value!, { ...vars });
            }
            const command = container.command!.map((word) => expandKubernetes(word, vars));
            const name = `${jobName}-${i}`;
            const created = await docker.createContainer({
                name,
                Hostname: name,
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
                        { Type: "bind" as const, Source: PROBE_DIR, Target: "/code", ReadOnly: true }, // the code "in the image"
                    ],
                    ShmSize: 256 * 1024 * 1024,
                    CapDrop: container.securityContext!.capabilities!.drop,
                    CapAdd: container.securityContext!.capabilities!.add,
                    SecurityOpt: ["no-new-privileges:true"],
                },
                NetworkingConfig: { EndpointsConfig: { [jobName]: { Aliases: [`${name}.${serviceName}`] } } },
            });
            names.push(name);
            await created.start();
        }
        const codes = await waitForExit(names, 600_000);
        const logs = await Promise.all(names.map(logsOf));
        assert.deepStrictEqual(codes, names.map(() => 0), logs.join("\n---\n").slice(-4000));
        logs.forEach((log, i) => {
            const probe = log.match(/^PROBE host=(\S+) GROUP_RANK=(\d+) RANK=(\d+) NODE_RANK=(\d+) WORLD_SIZE=(\d+) sum=(\d+) cwd=(\S+) code=(\S+)$/m);
            assert.ok(probe, log);
            const [, host, groupRank, rank, nodeRank, world, sum, cwd] = probe;
            assert.deepStrictEqual([host, groupRank, rank, nodeRank, world, sum, cwd], [`${jobName}-${i}`, String(i), String(i), String(i), "12", "12", "/workspace"]);
        });
    });
});
