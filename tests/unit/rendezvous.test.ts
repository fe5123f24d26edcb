import * as assert from "assert";
import { rendezvousFlags, splitRendezvousConf } from "../../components/plan";

describe("rendezvous settings (components/plan/rendezvous.ts)", () => {
    it("reads --rdzv-conf in every spelling torchrun takes, and leaves the other flags", () => {
        const args = ["--tee", "3", "--rdzv-conf", "join_timeout=900,last_call_timeout=10", "--rdzv_conf=keep_alive_interval=2", "--rdzv-c", "close_timeout=5"];
        assert.deepStrictEqual(splitRendezvousConf(args), {
            conf: [["join_timeout", "900"], ["last_call_timeout", "10"], ["keep_alive_interval", "2"], ["close_timeout", "5"]],
            rest: ["--tee", "3"],
        });
    });

    it("sets a 1 s keep-alive with 3 misses on every cluster; elastic ones also a 1 s last call after the first rendezvous", () => {
        assert.deepStrictEqual(rendezvousFlags([], false), { flags: ["--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=3"], rest: [] });
        assert.deepStrictEqual(rendezvousFlags([], true).flags, ["--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=3,later_last_call_timeout=1"]);
    });

    it("lets the user's torchrunArgs override any of them", () => {
        const { flags, rest } = rendezvousFlags(["--rdzv-conf", "later_last_call_timeout=10,keep_alive_max_attempt=5", "--tee", "3"], true);
        assert.deepStrictEqual(flags, ["--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=5,later_last_call_timeout=10"]);
        assert.deepStrictEqual(rest, ["--tee", "3"]);
    });
});
