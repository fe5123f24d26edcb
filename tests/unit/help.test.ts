/** `--help` on every command and script a user is pointed to: usage on stdout, exit 0, nothing done. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import { REPO_ROOT } from "../support/stackFiles";

const COMMANDS: [string, string[], RegExp][] = [
    ["npm run up", ["bash", "scripts/up.sh", "up", "--help"], /^Brings a stack up/],
    ["npm run destroy", ["bash", "scripts/up.sh", "destroy", "--help"], /^Brings a stack up/],
    ["npm run plot", ["bash", "scripts/plot.sh", "--help"], /^Draws a run's metrics/],
    ["npm run compose", [process.execPath, "-r", "ts-node/register/transpile-only", "scripts/compose.ts", "--help"], /^usage: npm run compose --/],
    ["npm run manifests", [process.execPath, "-r", "ts-node/register/transpile-only", "scripts/manifests.ts", "--help"], /^usage: npm run manifests --/],
    ["npm run docs", [process.execPath, "-r", "ts-node/register/transpile-only", "scripts/gen-config-docs.ts", "--help"], /^usage: npm run docs/],
    ["training/cpu-image/build.sh", ["bash", "training/cpu-image/build.sh", "--help"], /^Builds the CPU training image/],
    ["scripts/setup-docker.sh", ["bash", "scripts/setup-docker.sh", "--help"], /^Makes a Docker engine available/],
    ["scripts/setup-node.sh", ["bash", "scripts/setup-node.sh", "--help"], /^Prints the folder of a supported Node.js/],
    ["scripts/pulumi-toolchain.sh", ["bash", "scripts/pulumi-toolchain.sh", "--help"], /^Builds, with the Go toolchain/],
    ["scripts/python-sdk.sh", ["bash", "scripts/python-sdk.sh", "--help"], /^The Pulumi Python SDK \(PyPI `pulumi`\)/],
    ["npm run test:e2e", ["bash", "tests/e2e/run.sh", "--help"], /^The end-to-end suites/],
    ["scripts/quickstart.sh", ["bash", "scripts/quickstart.sh", "--help"], /^From a fresh clone to a trained 2-node CPU cluster/],
    ["training/gpu_node_bench.sh", ["bash", "training/gpu_node_bench.sh", "--help"], /The GPU benchmark of the node path/],
    ["training/gpu_resume_check.sh", ["bash", "training/gpu_resume_check.sh", "--help"], /^Resume on GPUs, without Docker/],
    ["scripts/kubernetes-cluster.sh", ["bash", "scripts/kubernetes-cluster.sh", "--help"], /^A one-node Kubernetes cluster on this machine/],
    ["scripts/kubernetes-cluster/build.sh", ["bash", "scripts/kubernetes-cluster/build.sh", "--help"], /^Builds, with the Go toolchain and from Go modules only, the pieces of the one-node cluster/],
    ["scripts/pulumi-kubernetes-provider.sh", ["bash", "scripts/pulumi-kubernetes-provider.sh", "--help"], /^Builds, with the Go toolchain and from Go modules only, the Pulumi Kubernetes provider/],
    ["npm run test:kubernetes", ["bash", "tests/kubernetes/run.sh", "--help"], /^The Kubernetes suite, on a real one-node cluster/],
    ["ddpsim", [process.execPath, "-r", "ts-node/register/transpile-only", "cli/main.ts", "--help"], /^Usage: ddpsim/],
];

describe("--help of every command", function () {
    this.timeout(60_000);
    for (const [name, argv, usage] of COMMANDS) {
        it(`${name} --help prints its usage and exits 0`, () => {
            const run = spawnSync(argv[0], argv.slice(1), { cwd: REPO_ROOT, encoding: "utf8", timeout: 30_000 });
            assert.strictEqual(run.status, 0, run.stderr);
            assert.match(run.stdout, usage);
        });
    }
});
