/**
 * scripts/, components/, cli/ and the stack program import nothing from tests/: the bench and every user-facing
 * command take the path a user's run takes (issue 13); tests may import them, never the other way round.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");

function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const file = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === "node_modules" || e.name === "__pycache__" ? [] : sources(file);
        return /\.(ts|js)$/.test(e.name) ? [file] : [];
    });
}

describe("what user-facing code imports", () => {
    it("scripts/, components/, cli/ and index.ts import nothing from tests/", () => {
        const files = [path.join(root, "index.ts"), ...["scripts", "components", "cli"].flatMap((d) => sources(path.join(root, d)))];
        assert.ok(files.length > 20, `${files.length} files`);
        const offending = files.flatMap((file) => {
            const text = fs.readFileSync(file, "utf8");
            const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]);
            return specifiers
                .filter((s) => s.startsWith("."))
                .filter((s) => path.relative(root, path.resolve(path.dirname(file), s)).split(path.sep)[0] === "tests")
                .map((s) => `${path.relative(root, file)}: ${s}`);
        });
        assert.deepStrictEqual(offending, []);
    });
});
