/**
 * The one SDK internal ddpsim uses (components/configSecrets.ts): @pulumi/pulumi's runtime/config `isConfigSecret`,
 * which tells a secret stack config key from a plain one. These tests fail when an SDK update moves or changes it.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { isSecretKey } from "../../components/configSecrets";
import { useMocks } from "../support/pulumiMocks";

describe("which stack config keys are secret (components/configSecrets.ts)", () => {
    it("finds the SDK's isConfigSecret where ddpsim reads it, a function of one key", () => {
        const internal = require("@pulumi/pulumi/runtime/config");
        assert.strictEqual(typeof internal.isConfigSecret, "function");
        assert.strictEqual(internal.isConfigSecret.length, 1);
    });

    it("tells the keys set with --secret from the others, as the Pulumi CLI hands them to the program", async () => {
        // setAllConfig(config, secretKeys) is how the language host passes a stack's config and its secret keys.
        await useMocks({ "ddpsim:env": '{"HF_TOKEN":"x"}', "ddpsim:nodes": "2", "other:env": "{}" }, { secretKeys: ["ddpsim:env"] });
        assert.deepStrictEqual(
            [isSecretKey("ddpsim", "env"), isSecretKey("ddpsim", "nodes"), isSecretKey("other", "env"), isSecretKey("ddpsim", "absent")],
            [true, false, false, false],
        );
        pulumi.runtime.setAllConfig({ "ddpsim:nodes": "2" }, ["ddpsim:nodes"]);
        assert.strictEqual(isSecretKey("ddpsim", "nodes"), true);
    });
});
