import { SETTING_NAMES, SettingKind, SettingName, SETTINGS } from "./settings";
import { RawClusterArgs } from "./fieldReader";
import { PropertyError } from "./types";

/** The kind of each stack config key (the settings table's); the keys are the components' argument names. */
export const STACK_CONFIG_KEYS = Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].kind])) as Record<SettingName, SettingKind>;

export type StackConfigKey = SettingName;

function parseValue(kind: SettingKind, text: string): unknown {
    switch (kind) {
        case "string":
            return text;
        case "integer":
        case "number":
            // Keep anything that is not a number as text, so validation can show the user's exact value.
            return /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(text) ? Number(text) : text;
        case "boolean":
            return text === "true" ? true : text === "false" ? false : text;
        case "list":
        case "integerList":
        case "map":
            try {
                return JSON.parse(text);
            } catch {
                return text;
            }
        default: {
            const never: never = kind;
            return never;
        }
    }
}

/**
 * Reads the stack config (raw strings, as Pulumi stores them; structured values as JSON) into DdpCluster
 * arguments. Unknown keys in the namespace are reported, since a typo would otherwise be ignored silently.
 */
export function readStackConfig(
    get: (key: string) => string | undefined,
    presentKeys: string[] = [],
): { args: RawClusterArgs; errors: PropertyError[] } {
    const args: RawClusterArgs = {};
    for (const key of Object.keys(STACK_CONFIG_KEYS) as StackConfigKey[]) {
        const text = get(key);
        if (text !== undefined) args[key] = parseValue(STACK_CONFIG_KEYS[key], text);
    }
    const known = new Set<string>(Object.keys(STACK_CONFIG_KEYS));
    const errors = presentKeys
        .filter((key) => !known.has(key))
        .map((key) => ({
            propertyPath: key,
            reason: `${key} is not a known setting; known settings: ${[...known].join(", ")}`,
        }));
    return { args, errors };
}

/** Prefixes each error's key with the config namespace (`ddpsim:nodes`), as the user typed it. */
export function inNamespace(namespace: string, errors: PropertyError[]): PropertyError[] {
    return errors.map((e) => ({
        propertyPath: `${namespace}:${e.propertyPath}`,
        reason: `${namespace}:${e.reason}`,
    }));
}

/** One message listing every problem, for errors whose structured form may not be printed. */
export function describeErrors(title: string, errors: PropertyError[]): string {
    return [title, ...errors.map((e) => `  - ${e.reason}`)].join("\n");
}
