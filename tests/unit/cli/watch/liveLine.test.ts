import * as assert from "assert";
import { LiveLine } from "../../../../cli";

function stream(isTTY: boolean, columns = 80): NodeJS.WriteStream & { written: string } {
    const fake = { isTTY, columns, written: "", write: (text: string) => ((fake.written += text), true) };
    return fake as unknown as NodeJS.WriteStream & { written: string };
}

describe("cli live line", () => {
    it("rewrites one line in place on a terminal, cut to its width, and ends it with a newline", () => {
        const out = stream(true, 21);
        const line = new LiveLine(out);
        line.show("[0s] starting", "a");
        line.show("[1s] starting", "a");
        line.show("[2s] running: ddp-node-0 step 1/2", "b");
        line.end();
        line.end();
        assert.strictEqual(out.written, "\r\x1b[2K[0s] starting\r\x1b[2K[1s] starting\r\x1b[2K[2s] running: ddp-n…\n");
    });

    it("takes 80 columns when the terminal does not say", () => {
        const out = stream(true, 0);
        const line = new LiveLine(out);
        line.show("x".repeat(100), "a");
        assert.strictEqual(out.written, `\r\x1b[2K${"x".repeat(78)}…`);
    });

    it("writes a plain line each time the key changes when not on a terminal", () => {
        const out = stream(false);
        const line = new LiveLine(out);
        line.show("[0s] starting", "a");
        line.show("[1s] starting", "a");
        line.show("[2s] running", "b");
        line.show("[3s] running", "b");
        line.show("[4s] starting", "a");
        line.end();
        assert.strictEqual(out.written, "[0s] starting\n[2s] running\n[4s] starting\n");
    });
});
