/**
 * The documentation: the configuration reference in docs/configuration.md is generated from Pulumi.yaml
 * (scripts/gen-config-docs.ts, `npm run docs`), and every relative link in README.md and docs/ leads to a file.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    configReference,
    currentReference,
    END,
    main,
    REFERENCE_PAGE,
    START,
    withReference,
} from "../../scripts/gen-config-docs";

const root = path.resolve(__dirname, "..", "..");

describe("the generated configuration reference (npm run docs)", () => {
    it("matches Pulumi.yaml in docs/configuration.md: run `npm run docs` after changing the config schema", () => {
        const page = fs.readFileSync(path.join(root, REFERENCE_PAGE), "utf8");
        const expected = configReference(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
        const current = currentReference(page);
        assert.ok(current !== undefined, `${REFERENCE_PAGE} lacks the markers ${START} ... ${END}`);
        assert.strictEqual(current, expected, `${REFERENCE_PAGE}'s configuration reference is stale: run \`npm run docs\``);
    });

    it("is in docs/configuration.md only: the README links to it instead of carrying a copy", () => {
        const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
        assert.ok(!readme.includes(START) && !readme.includes(END), "README.md still has a generated region");
        assert.ok(readme.includes("](docs/configuration.md)"), "README.md does not link docs/configuration.md");
    });

    it("renders key, type, default and description, one row per setting, in the schema's order", () => {
        const yaml = [
            "name: demo",
            "runtime: nodejs",
            "config:",
            "  nodes: {type: integer, default: 2, description: Number of nodes.}",
            "  gpuIds: {type: array, items: {type: string}, description: 'Ids | UUIDs, default 0..n*g-1 of <host>.'}",
            "  linkLatencyMs: {description: Delay in ms.}",
            "  image: {type: string, default: 'a:b', description: The image.}",
        ].join("\n");
        assert.strictEqual(
            configReference(yaml),
            [
                "<!-- Generated from Pulumi.yaml by `npm run docs`: edit the descriptions there, not here. -->",
                "",
                "| Key | Type | Default | Description |",
                "| --- | --- | --- | --- |",
                "| `demo:nodes` | integer | `2` | Number of nodes. |",
                "| `demo:gpuIds` | list of string | none | Ids \\| UUIDs, default 0..n\\*g-1 of &lt;host&gt;. |",
                "| `demo:linkLatencyMs` | number | none | Delay in ms. |",
                "| `demo:image` | string | `a:b` | The image. |",
            ].join("\n"),
        );
    });

    it("replaces only the region between the markers, and refuses a page without them", () => {
        const readme = `# Title\n\nbefore\n${START}\nold table\n${END}\nafter\n`;
        assert.strictEqual(withReference(readme, "NEW"), `# Title\n\nbefore\n${START}\nNEW\n${END}\nafter\n`);
        assert.strictEqual(currentReference(withReference(readme, "NEW")), "NEW");
        assert.throws(() => withReference("# no markers\n", "NEW"), /docs\/configuration.md needs the markers/);
    });

    it("--check exits 0 on a current page and 1 on a stale one, changing nothing; --help exits 0", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-docs-"));
        try {
            const yaml = "name: demo\nruntime: nodejs\nconfig:\n  nodes: {type: integer, default: 2, description: Nodes.}\n";
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), yaml);
            fs.mkdirSync(path.join(dir, "docs"));
            const pagePath = path.join(dir, REFERENCE_PAGE);
            const stale = `# Configuration\n\n${START}\nold\n${END}\n`;
            fs.writeFileSync(pagePath, stale);
            const quiet = silenced();
            try {
                assert.strictEqual(main(["--check"], dir), 1);
                assert.strictEqual(fs.readFileSync(pagePath, "utf8"), stale);
                assert.strictEqual(main([], dir), 0);
                assert.strictEqual(currentReference(fs.readFileSync(pagePath, "utf8")), configReference(yaml));
                assert.strictEqual(main(["--check"], dir), 0);
                assert.strictEqual(main(["--help"], dir), 0);
                assert.strictEqual(main(["--chek"], dir), 2);
            } finally {
                quiet.restore();
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

/** Silences console.log and console.error until restore(). */
function silenced(): { restore: () => void } {
    const [log, error] = [console.log, console.error];
    console.log = () => undefined;
    console.error = () => undefined;
    return {
        restore: () => {
            console.log = log;
            console.error = error;
        },
    };
}

/** The Markdown files whose links are checked: the README, every page under docs/, and training/README.md. */
function markdownFiles(): string[] {
    const docs = fs
        .readdirSync(path.join(root, "docs"))
        .filter((name) => name.endsWith(".md"))
        .map((name) => path.join("docs", name));
    return ["README.md", path.join("training", "README.md"), ...docs];
}

/**
 * The targets of a Markdown text's inline links and images (`[text](target)`, `![alt](target)`), outside code
 * blocks and code spans, without a title (`(target "title")`).
 */
function linkTargets(markdown: string): string[] {
    const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
    return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
}

describe("links in the documentation", () => {
    it("finds inline links and images, and skips code", () => {
        const text = [
            "See [the contract](docs/run-contract.md) and ![a plot](img/run.png \"Run\").",
            "`[not](a-link.md)` in a code span",
            "```",
            "[not](in-a-block.md)",
            "```",
            "[web](https://example.org/x) [here](#section) [there](gpus.md#which-gpus-a-node-gets)",
        ].join("\n");
        assert.deepStrictEqual(linkTargets(text), [
            "docs/run-contract.md",
            "img/run.png",
            "https://example.org/x",
            "#section",
            "gpus.md#which-gpus-a-node-gets",
        ]);
    });

    it("every relative link in README.md, training/README.md and docs/*.md leads to a file or folder that exists", () => {
        const broken: string[] = [];
        let checked = 0;
        for (const file of markdownFiles()) {
            const text = fs.readFileSync(path.join(root, file), "utf8");
            for (const target of linkTargets(text)) {
                if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue; // a URL, or this page
                const filePart = decodeURIComponent(target.split("#")[0]);
                const resolved = path.resolve(root, path.dirname(file), filePart);
                checked += 1;
                if (!resolved.startsWith(root + path.sep) || !fs.existsSync(resolved)) broken.push(`${file}: ${target}`);
            }
        }
        assert.ok(checked > 20, `only ${checked} relative links found: is the link pattern still right?`);
        assert.deepStrictEqual(broken, [], "links to files that do not exist");
    });

    it("the README links every page under docs/", () => {
        const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
        const linked = new Set(linkTargets(readme).map((t) => t.split("#")[0]));
        const pages = markdownFiles().filter((f) => f.startsWith("docs" + path.sep)).map((f) => f.split(path.sep).join("/"));
        assert.deepStrictEqual(
            pages.filter((p) => !linked.has(p)),
            [],
            "docs pages the README does not link: add each to its Documentation list",
        );
    });
});
