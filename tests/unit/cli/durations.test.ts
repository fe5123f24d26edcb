import * as assert from "assert";
import { CliError, formatDuration, parseCount, parseDuration, parseSince } from "../../../cli";

describe("cli durations", () => {
    for (const [text, seconds] of [
        ["90", 90],
        ["1.5", 1.5],
        ["90s", 90],
        ["10m", 600],
        ["1m30s", 90],
        ["2h", 7200],
        ["1h30m", 5400],
        ["500ms", 0.5],
        ["1.5h", 5400],
        ["1d", 86400],
        [" 5m ", 300],
    ] as const) {
        it(`reads the duration ${JSON.stringify(text)} as ${seconds} s`, () => {
            assert.strictEqual(parseDuration(text, "--timeout"), seconds);
        });
    }

    for (const text of ["", "abc", "10x", "-5", "5m junk", "m"]) {
        it(`refuses the duration ${JSON.stringify(text)}, naming the flag`, () => {
            assert.throws(
                () => parseDuration(text, "--timeout"),
                (err: unknown) =>
                    err instanceof CliError &&
                    err.message === `--timeout must be a duration such as 90, 90s, 1m30s, 10m or 2h, got ${JSON.stringify(text)}` &&
                    err.exitCode === 2,
            );
        });
    }

    const NOW = Date.parse("2024-05-01T12:00:00Z");
    for (const [text, unix] of [
        ["10m", NOW / 1000 - 600],
        ["1h30m", NOW / 1000 - 5400],
        ["2024-05-01T11:00:00Z", NOW / 1000 - 3600],
        ["2024-05-01T13:00:00+02:00", NOW / 1000 - 3600],
        ["2024-05-01T11:59:59.5Z", NOW / 1000 - 0.5],
        ["2024-05-01", Date.parse("2024-05-01") / 1000],
        ["1714564800", 1714564800],
        ["1714564800.25", 1714564800.25],
    ] as const) {
        it(`reads --since ${text} as unix ${unix}`, () => {
            assert.strictEqual(parseSince(text, NOW), unix);
        });
    }

    it("refuses a --since it cannot read, listing the forms", () => {
        assert.throws(
            () => parseSince("yesterday", NOW),
            new CliError(
                '--since must be a duration (10m, 1h30m), an RFC 3339 time (2024-05-01T12:00:00Z) or unix seconds, got "yesterday"',
            ),
        );
    });

    it("reads counts and refuses what is not a whole number", () => {
        assert.strictEqual(parseCount("5", "--tail"), 5);
        assert.strictEqual(parseCount("0", "--tail"), 0);
        assert.throws(() => parseCount("-1", "--tail"), /^CliError: --tail must be a whole number of at least 0, got "-1"$/);
        assert.throws(() => parseCount("2.5", "--tail"), /got "2.5"/);
        assert.throws(() => parseCount("0", "--tail", 1), /--tail must be a whole number of at least 1, got "0"/);
    });

    for (const [seconds, text] of [
        [0, "0s"],
        [42.9, "42s"],
        [59, "59s"],
        [60, "1m00s"],
        [185, "3m05s"],
        [3599, "59m59s"],
        [3600, "1h00m"],
        [7620, "2h07m"],
        [86400 + 4 * 3600 + 59, "1d04h"],
        [-5, "0s"],
    ] as const) {
        it(`writes ${seconds} s as ${text}`, () => {
            assert.strictEqual(formatDuration(seconds), text);
        });
    }
});
