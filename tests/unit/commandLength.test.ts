/**
 * Every container command is a command line a person can read in `docker inspect`, `docker ps --no-trunc`, the
 * Compose file, `kubectl describe pod` and a preview: ddpsim's files travel as files (/opt/ddpsim), never inside the
 * command. No target's command is longer than 2,000 characters, for the widest configuration ddpsim writes itself
 * (the script's own arguments, scriptArgs and torchrunArgs, are the user's and add their own length).
 */
import * as assert from "assert";
import { ClusterPlan, planCluster, resolveClusterSpec } from "../../components/plan";
import { composeDocument } from "../../components/targets/compose";
import { kubernetesManifests, planForKubernetes } from "../../components/targets/kubernetes";
import { checkKubernetesArgs } from "../../components/targets/kubernetesSettings";
import { DdpCluster } from "../../components";
import { useMocks, valueOf } from "../support/pulumiMocks";

const MAX_COMMAND = 2000;
const IDENTITY = { owner: "a-rather-long-owner-name", project: "ddpsim", stack: "a-long-stack-name-for-the-team", cluster: "trainers" };

/** What every node of every target is asked to do at most, in ddpsim's own words. */
const COMMON = {
    nodes: 256,
    gpusPerNode: 8,
    procsPerNode: 8,
    module: "team_package.training.entry_point",
    checkpointDirArg: "--checkpoint-directory",
    dataDirArg: "--dataset-directory",
    datasetVolume: "a-dataset-volume-name",
    user: "65534:65534",
    masterPort: 65535,
    maxRestarts: 100,
    stopGraceSeconds: 3600,
    failFastExitCodes: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
    failFastRepeats: 100,
};
/** Docker only: an elastic cluster, and the most shaping (every tc command and its messages in the agent's config). */
const DOCKER = {
    ...COMMON,
    gpuIds: ["0", "1", "2", "3", "4", "5", "6", "7"],
    gpuSharing: true,
    minNodes: 1,
    interconnect: "wan",
    linkBandwidthMbit: 10_000_000,
    linkLatencyMs: 59_999.5,
    linkJitterMs: 59_999.5,
    linkLossPercent: 99.5,
};

const length = (command: string[]) => command.join(" ").length;

function dockerPlan(raw: Record<string, unknown>): ClusterPlan {
    const checked = resolveClusterSpec(raw, "/srv/ddpsim");
    assert.ok(checked.ok, JSON.stringify(!checked.ok && checked.errors));
    return planCluster(checked.spec, IDENTITY);
}

function longest(commands: string[][]): number {
    return Math.max(...commands.map(length));
}

describe(`container commands: at most ${MAX_COMMAND} characters in every target`, function () {
    this.timeout(120_000);

    for (const [title, raw] of [["the defaults", {}], ["the widest configuration", DOCKER]] as const) {
        it(`Docker (DdpCluster), ${title}`, async () => {
            const registered = await useMocks({}, { stack: IDENTITY.stack });
            // 100 nodes: as wide as 256 (three-digit names), a third of the containers to register under mocks.
            const nodes = "nodes" in raw ? 100 : 2;
            const cluster = new DdpCluster(IDENTITY.cluster, { ...raw, nodes, owner: IDENTITY.owner } as never);
            await valueOf(cluster.containerNames);
            const commands = registered.filter((r) => r.type === "docker:index/container:Container").map((r) => r.inputs.command as string[]);
            assert.strictEqual(commands.length, nodes);
            console.log(`      longest Docker command: ${longest(commands)} characters`);
            assert.ok(longest(commands) <= MAX_COMMAND, `${longest(commands)} characters`);
            assert.ok(commands.every((c) => c[1] === "/opt/ddpsim/node_agent.py"));
        });

        it(`Compose, ${title}`, () => {
            const commands = Object.values(composeDocument(dockerPlan(raw)).services).map((s) => s.command);
            console.log(`      longest Compose command: ${longest(commands)} characters`);
            assert.ok(longest(commands) <= MAX_COMMAND, `${longest(commands)} characters`);
        });
    }

    for (const [title, raw] of [["the defaults", {}], ["the widest configuration", COMMON]] as const) {
        it(`Kubernetes (the Job's pod template), ${title}`, () => {
            const checked = checkKubernetesArgs({ ...raw, imageMode: "registry" }, "/srv/ddpsim");
            assert.ok(checked.ok, JSON.stringify(!checked.ok && checked.errors));
            const job = kubernetesManifests(planForKubernetes(checked.spec, IDENTITY), checked.settings).job;
            const command = job.spec!.template.spec!.containers[0].command!;
            console.log(`      Kubernetes command: ${length(command)} characters`);
            assert.ok(length(command) <= MAX_COMMAND, `${length(command)} characters`);
            assert.deepStrictEqual(command.slice(0, 2), ["python3", "/opt/ddpsim/indexed_node.py"]);
        });
    }
});
