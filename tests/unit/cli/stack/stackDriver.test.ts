/** The pure parts of `ddpsim run` and its stack driver (cli/stack/stackDriver.ts, cli/stack/runStack.ts). */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { CliError } from "../../../../cli/errors";
import { parseConfigPair } from "../../../../cli/stack/runStack";
import {
    configFileText,
    describeFailure,
    errorLines,
    findOnPath,
    namespacedKey,
    stackFileName,
} from "../../../../cli/stack/stackDriver";

describe("ddpsim run: the stack driver's pure parts", () => {
    let tmp: string;
    before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-driver-"))));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    function executable(dir: string, name: string): void {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, name), "#!/bin/sh\n", { mode: 0o755 });
    }

    it("finds the Pulumi CLI on PATH: an executable file, not a folder or a plain file", () => {
        const cli = path.join(tmp, "cli");
        executable(cli, "pulumi");
        fs.mkdirSync(path.join(tmp, "plain"), { recursive: true });
        fs.writeFileSync(path.join(tmp, "plain", "pulumi"), "not executable", { mode: 0o644 });
        fs.mkdirSync(path.join(tmp, "dir", "pulumi"), { recursive: true });
        assert.strictEqual(findOnPath("pulumi", [path.join(tmp, "plain"), path.join(tmp, "dir")].join(path.delimiter)), undefined);
        assert.strictEqual(findOnPath("pulumi", ["", path.join(tmp, "nowhere"), path.join(tmp, "plain"), cli].join(path.delimiter)), path.join(cli, "pulumi"));
        assert.strictEqual(findOnPath("pulumi", undefined), findOnPath("pulumi"));
    });

    it("names stack files and config keys as the Pulumi CLI does", () => {
        assert.strictEqual(stackFileName("dev"), "Pulumi.dev.yaml");
        assert.strictEqual(stackFileName("acme/ddpsim/dev"), "Pulumi.dev.yaml");
        assert.strictEqual(namespacedKey("nodes", "ddpsim"), "ddpsim:nodes");
        assert.strictEqual(namespacedKey("docker:host", "ddpsim"), "docker:host");
    });

    it("writes a run's config over the stack file's, keeping its secrets, their salt and everything else", () => {
        const stackFile = [
            "# a comment",
            "secretsprovider: passphrase",
            "encryptionsalt: v1:abc",
            "environment: [team-env]",
            "config:",
            "  ddpsim:nodes: 2",
            "  ddpsim:token:",
            "    secure: v1:xyz",
            '  ddpsim:scriptArgs: ["--steps", "8"]',
            "",
        ].join("\n");
        const text = configFileText(stackFile, "ddpsim", { scriptArgs: ["--steps", "6"], "docker:host": "unix:///x", nodes: 3 });
        assert.deepStrictEqual(parse(text), {
            secretsprovider: "passphrase",
            encryptionsalt: "v1:abc",
            environment: ["team-env"],
            config: {
                "ddpsim:nodes": 3,
                "ddpsim:token": { secure: "v1:xyz" },
                "ddpsim:scriptArgs": ["--steps", "6"],
                "docker:host": "unix:///x",
            },
        });
        assert.deepStrictEqual(parse(configFileText(undefined, "ddpsim", { image: "img:1" })), { config: { "ddpsim:image": "img:1" } });
    });

    it("reads --config key=value: JSON when it parses, else text; refuses what is not a pair", () => {
        assert.deepStrictEqual(parseConfigPair("nodes=3"), ["nodes", 3]);
        assert.deepStrictEqual(parseConfigPair('scriptArgs=["--steps","abc"]'), ["scriptArgs", ["--steps", "abc"]]);
        assert.deepStrictEqual(parseConfigPair("ddpsim:image=ddpsim-cpu:latest"), ["ddpsim:image", "ddpsim-cpu:latest"]);
        assert.deepStrictEqual(parseConfigPair("retainCheckpoints=false"), ["retainCheckpoints", false]);
        assert.deepStrictEqual(parseConfigPair("env={\"A\":\"1=2\"}"), ["env", { A: "1=2" }]);
        assert.deepStrictEqual(parseConfigPair("owner="), ["owner", ""]);
        for (const bad of ["nodes", "=3", "a b=1", "x:y:z=1"]) assert.throws(() => parseConfigPair(bad), CliError, bad);
    });

    it("repeats a failed command's error lines, not a program's stack trace nor the unhandled-exception duplicate", () => {
        const output = [
            "Updating (dev):",
            " +  pulumi:pulumi:Stack ddpsim-dev creating (0s) error: Unhandled exception: Error: Invalid stack config for stack \"dev\":",
            "Diagnostics:",
            "  pulumi:pulumi:Stack (ddpsim-dev):",
            '    error: Unhandled exception: Error: Invalid stack config for stack "dev":',
            "      - ddpsim:nodes must be a whole number from 1 to 256, got 0",
            "        at Object.<anonymous> (/p/index.ts:18:24)",
            "        at Module._compile (node:internal/modules/cjs/loader:1929:14)",
            '    error: Invalid stack config for stack "dev":',
            "      - ddpsim:nodes must be a whole number from 1 to 256, got 0",
            "",
            "Resources:",
        ].join("\n");
        assert.deepStrictEqual(errorLines(output), [
            'error: Invalid stack config for stack "dev":',
            "- ddpsim:nodes must be a whole number from 1 to 256, got 0",
        ]);
        assert.deepStrictEqual(errorLines("error: update failed\nerror: update failed\n"), ["error: update failed"]);
        assert.deepStrictEqual(errorLines("no errors here"), []);
    });

    it("says how to fix a missing backend or passphrase", () => {
        assert.strictEqual(
            describeFailure("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions\n"),
            "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions (no state backend: set " +
                "PULUMI_BACKEND_URL, e.g. file://$PWD/.pulumi for state in the project folder, or `pulumi login`)",
        );
        assert.match(
            describeFailure("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables"),
            /\(set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE/,
        );
        assert.strictEqual(describeFailure(new Error("spawn pulumi ENOENT")), "spawn pulumi ENOENT");
        assert.strictEqual(describeFailure("\n  \n"), "the Pulumi CLI failed and printed nothing");
    });
});
