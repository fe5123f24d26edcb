/**
 * DdpCluster inside a larger program: one dataset volume, filled once, read by two clusters of different world
 * sizes (a 2-node and a 4-node run of the same training), e.g. to compare step time and loss at two scales.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DdpCluster, defaultOwner, identityTag, packageTrainingDir } from "ddpsim";

const config = new pulumi.Config();
const image = config.get("image") ?? "ddpsim-cpu:latest";
const steps = config.getNumber("steps") ?? 100;

// DdpCluster takes the dataset volume by name (a plain string: it decides the mounts), so the name is chosen here,
// unique per owner, project and stack (as ddpsim's own names are), and the volume is declared with it.
const owner = defaultOwner();
const datasetVolumeName =
    `${pulumi.getProject()}-${pulumi.getStack()}-dataset-` + identityTag(owner, pulumi.getProject(), pulumi.getStack(), "dataset");
const labels = [
    { label: "ddpsim.project", value: pulumi.getProject() },
    { label: "ddpsim.stack", value: pulumi.getStack() },
];
const dataset = new docker.Volume("dataset", { name: datasetVolumeName, labels });

// Fills the volume once: `attach` makes `pulumi up` wait until the container has exited (and fail if it failed).
const prepare = new docker.Container("prepare-dataset", {
    name: `${datasetVolumeName}-prepare`,
    image,
    command: ["python3", "/workspace/make_dataset.py", "--out", "/data", "--samples", "8192"],
    mounts: [
        { type: "bind", source: packageTrainingDir(), target: "/workspace", readOnly: true },
        { type: "volume", source: dataset.name, target: "/data" },
    ],
    // root: the fresh volume's folder belongs to root, and the CPU image's default user is not root.
    user: "0:0",
    attach: true,
    logs: true,
    mustRun: false,
    labels,
});

// The clusters start once the dataset is written; each mounts it read-only at /data (--data-dir /data).
const common = { image, datasetVolume: datasetVolumeName, scriptArgs: ["--steps", String(steps)] };
const small = new DdpCluster("small", { ...common, nodes: config.getNumber("smallNodes") ?? 2 }, { dependsOn: [prepare] });
const large = new DdpCluster("large", { ...common, nodes: config.getNumber("largeNodes") ?? 4 }, { dependsOn: [prepare] });

export const datasetVolume = dataset.name;
export const smallContainers = small.containerNames;
export const largeContainers = large.containerNames;
export const smallCheckpoints = small.checkpointVolumeName;
export const largeCheckpoints = large.checkpointVolumeName;
