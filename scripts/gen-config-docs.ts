/**
 * Generates the configuration reference (docs/configuration.md) from the config schema in Pulumi.yaml (key, type,
 * default, description), between the markers `<!-- config-reference:start -->` and `<!-- config-reference:end -->`:
 *   npm run docs            rewrites the region
 *   npm run docs -- --check exits 1 when the region differs from what Pulumi.yaml gives (tests/unit/docs.test.ts)
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { STACK_CONFIG_KEYS } from "../components/plan/stackConfig";
import { runMain } from "./runMain";

export const START = "<!-- config-reference:start -->";
export const END = "<!-- config-reference:end -->";

const ROOT = path.resolve(__dirname, "..");

/** The page that holds the generated region, relative to the repository root. */
export const REFERENCE_PAGE = path.join("docs", "configuration.md");

interface ConfigSchema {
    type?: string;
    items?: { type?: string };
    default?: unknown;
    description?: string;
}

function typeOf(key: string, schema: ConfigSchema): string {
    if (schema.type === "array") return `list of ${schema.items?.type ?? "string"}`;
    if (schema.type !== undefined) return schema.type;
    // Pulumi.yaml's schema has no type for fractional numbers; the stack config reader knows the kind.
    return (STACK_CONFIG_KEYS as Record<string, string>)[key] ?? "string";
}

/** Text for a Markdown table cell: one line, pipes escaped, no `<x>` read as an HTML tag, no `*` as emphasis. */
function cell(text: string): string {
    return text
        .replace(/\s*\n\s*/g, " ")
        .replace(/\|/g, "\\|")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/\*/g, "\\*")
        .trim();
}

function defaultOf(schema: ConfigSchema): string {
    if (schema.default === undefined) return "none";
    const text = typeof schema.default === "string" ? schema.default : JSON.stringify(schema.default);
    return `\`${cell(text)}\``;
}

/** The region's content (markers excluded) for a Pulumi.yaml text. */
export function configReference(pulumiYaml: string): string {
    const project = parse(pulumiYaml);
    const namespace = String(project.name);
    const rows = Object.entries((project.config ?? {}) as Record<string, ConfigSchema>).map(([key, schema]) => {
        const bare = key.startsWith(`${namespace}:`) ? key.slice(namespace.length + 1) : key;
        return `| \`${namespace}:${bare}\` | ${typeOf(bare, schema)} | ${defaultOf(schema)} | ${cell(schema.description ?? "")} |`;
    });
    return [
        "<!-- Generated from Pulumi.yaml by `npm run docs`: edit the descriptions there, not here. -->",
        "",
        "| Key | Type | Default | Description |",
        "| --- | --- | --- | --- |",
        ...rows,
    ].join("\n");
}

/** The page with its region replaced; throws when the markers are missing or out of order. */
export function withReference(page: string, reference: string): string {
    const start = page.indexOf(START);
    const end = page.indexOf(END);
    if (start < 0 || end < start) throw new Error(`${REFERENCE_PAGE} needs the markers ${START} and ${END}, in that order`);
    return `${page.slice(0, start + START.length)}\n${reference}\n${page.slice(end)}`;
}

/** The page's region as it is now (markers excluded, trimmed). */
export function currentReference(page: string): string | undefined {
    const start = page.indexOf(START);
    const end = page.indexOf(END);
    if (start < 0 || end < start) return undefined;
    return page.slice(start + START.length, end).trim();
}

export function main(argv: string[], root = ROOT): number {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log("usage: npm run docs [-- --check]");
        console.log(`  rewrites the configuration reference in ${REFERENCE_PAGE} from Pulumi.yaml's config schema;`);
        console.log("  --check exits 1, changing nothing, when it is stale");
        return 0;
    }
    const unknown = argv.filter((a) => a !== "--check");
    if (unknown.length > 0) {
        console.error(`docs: unknown argument ${unknown[0]}; usage: npm run docs [-- --check]`);
        return 2;
    }
    const pagePath = path.join(root, REFERENCE_PAGE);
    const page = fs.readFileSync(pagePath, "utf8");
    const reference = configReference(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
    if (argv.includes("--check")) {
        if (currentReference(page) === reference) return 0;
        console.error(`${REFERENCE_PAGE}'s configuration reference differs from Pulumi.yaml: run \`npm run docs\``);
        return 1;
    }
    const updated = withReference(page, reference);
    if (updated !== page) fs.writeFileSync(pagePath, updated);
    console.log(updated === page ? `${REFERENCE_PAGE} is up to date` : `${REFERENCE_PAGE}: configuration reference regenerated`);
    return 0;
}

if (require.main === module) runMain(main);
