/**
 * Runs a Pulumi program through the Node.js language host's own program runner (@pulumi/pulumi/cmd/run, what the
 * language host executes for `pulumi up`), with the arguments and environment the language host gives it, and
 * Pulumi's mock resource monitor instead of an engine: what the runner reports as errors is printed on stderr as
 * `error: [runtime] <message>` (the SDK's log without an engine), and the process exits non-zero.
 *   node tests/support/programRunner.js <program.ts> '<config json>'      (run with ts-node's register hook)
 */
import * as pulumi from "@pulumi/pulumi";

const [program, configJson] = process.argv.slice(2);
process.env.PULUMI_CONFIG = JSON.stringify({
    "docker:host": "unix:///tmp/ddpsim-tests-no-docker-engine.sock",
    ...JSON.parse(configJson ?? "{}"),
});
process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
process.env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
pulumi.runtime.setMocks(
    {
        newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
        call: (args) => {
            throw new Error(`Mock not implemented: ${args.token}`);
        },
    },
    "ddpsim",
    "dev",
    false,
);
process.argv = [process.argv[0], "run", "--monitor=127.0.0.1:9", "--project=ddpsim", "--stack=dev", program];
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("@pulumi/pulumi/cmd/run");
