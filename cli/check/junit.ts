/**
 * The findings as JUnit XML (pure): one test case per finding, so that GitLab, Jenkins and GitHub's test reporters
 * list them; a failed finding is a <failure> with its summary as the message and its evidence as the text, a skipped
 * one <skipped>.
 */
import { Finding } from "./types";

export function xmlEscape(text: string): string {
    return (
        text
            .replace(/&/g, "&amp;")
            .replace(/</g, "&lt;")
            .replace(/>/g, "&gt;")
            .replace(/"/g, "&quot;")
            // XML 1.0 forbids most control characters, which a log line may hold (colour codes).
            // eslint-disable-next-line no-control-regex
            .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
    );
}

export interface JunitSuite {
    /** What was checked: `train.py` or `-m pkg.train`. */
    name: string;
    /** ISO time the check began. */
    timestamp: string;
    seconds: number;
}

function testCase(f: Finding): string {
    const head = `    <testcase classname="ddpsim.check" name="${xmlEscape(f.title)}" time="${(f.seconds ?? 0).toFixed(1)}"`;
    const text = xmlEscape([`checks: ${f.checks}`, ...f.details].join("\n"));
    switch (f.status) {
        case "pass":
            return `${head}>\n      <system-out>${xmlEscape([f.summary, ...f.details].join("\n"))}</system-out>\n    </testcase>`;
        case "skip":
            return `${head}>\n      <skipped message="${xmlEscape(f.summary)}"/>\n    </testcase>`;
        case "fail":
            return `${head}>\n      <failure message="${xmlEscape(f.summary)}" type="ddpsim.check.${f.id}">${text}</failure>\n    </testcase>`;
        default: {
            const never: never = f.status;
            throw new Error(`unknown status ${String(never)}`);
        }
    }
}

export function junitXml(suite: JunitSuite, all: Finding[]): string {
    const failures = all.filter((f) => f.status === "fail").length;
    const skipped = all.filter((f) => f.status === "skip").length;
    const counts = `tests="${all.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${suite.seconds.toFixed(1)}"`;
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<testsuites name="ddpsim check" ${counts}>`,
        `  <testsuite name="ddpsim check: ${xmlEscape(suite.name)}" ${counts} timestamp="${xmlEscape(suite.timestamp)}">`,
        ...all.map(testCase),
        "  </testsuite>",
        "</testsuites>",
        "",
    ].join("\n");
}
