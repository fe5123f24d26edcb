/** The pure parts of `ddpsim run` and its Automation API driver (cli/stack/stackDriver.ts, cli/stack/runStack.ts). */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { CliError } from "../../../../cli/errors";
import { parseConfigPair } from "../../../../cli/stack/runStack";
import {
    chooseProgramMode,
    configFileText,
    describeFailure,
    errorLines,
    findOnPath,
    namespacedKey,
    stackFileName,
} from "../../../../cli/stack/stackDriver";
import { programEntry } from "../../../../cli/stack/inlineProgram";

describe("ddpsim run: the stack driver's pure parts", () => {
    let tmp: string;
    before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-driver-"))));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    function executable(dir: string, name: string): void {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, name), "#!/bin/sh\n", { mode: 0o755 });
    }

    it("runs the program through the language host when pulumi-language-nodejs is on PATH, inline otherwise", () => {
        const cli = path.join(tmp, "cli");
        const host = path.join(tmp, "host");
        executable(cli, "pulumi");
        executable(host, "pulumi-language-nodejs");
        fs.mkdirSync(path.join(tmp, "plain"), { recursive: true });
        fs.writeFileSync(path.join(tmp, "plain", "pulumi-language-nodejs"), "not executable", { mode: 0o644 });
        assert.strictEqual(chooseProgramMode([cli].join(path.delimiter)), "inline");
        assert.strictEqual(chooseProgramMode([cli, host].join(path.delimiter)), "local");
        assert.strictEqual(chooseProgramMode([cli, path.join(tmp, "plain")].join(path.delimiter)), "inline", "a file that is not executable");
        assert.strictEqual(findOnPath("pulumi", ["", path.join(tmp, "nowhere"), cli].join(path.delimiter)), path.join(cli, "pulumi"));
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

    it("repeats a failed command's error lines, not the inline program's stack trace nor its duplicate", () => {
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
        const cmd = (stderr: string) => new Error(`code: 255\n stdout: \n stderr: ${stderr}\n err?: Error: Command failed`);
        assert.match(describeFailure(cmd("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions")), /set PULUMI_BACKEND_URL/);
        assert.match(
            describeFailure(cmd("error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables")),
            /\(set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE/,
        );
        assert.strictEqual(describeFailure(new Error("spawn pulumi ENOENT")), "spawn pulumi ENOENT");
    });

    it("finds the program as the language host does: Pulumi.yaml's main (file or folder), else index.ts, else index.js", () => {
        const project = path.join(tmp, "project");
        fs.mkdirSync(path.join(project, "src"), { recursive: true });
        fs.writeFileSync(path.join(project, "index.js"), "");
        assert.strictEqual(programEntry(project, undefined), path.join(project, "index.js"));
        fs.writeFileSync(path.join(project, "index.ts"), "");
        assert.strictEqual(programEntry(project, undefined), path.join(project, "index.ts"));
        fs.writeFileSync(path.join(project, "src", "index.ts"), "");
        assert.strictEqual(programEntry(project, "src"), path.join(project, "src", "index.ts"));
        fs.writeFileSync(path.join(project, "main.ts"), "");
        assert.strictEqual(programEntry(project, "main.ts"), path.join(project, "main.ts"));
        assert.throws(() => programEntry(project, "missing"), /no program in .*missing\/index\.ts/);
    });
});
