import { PropertyError } from "./types";

/**
 * The arguments as they arrive, from TypeScript, another Pulumi language or stack config: anything may be
 * missing or of the wrong type. `image` may be left undefined by a caller that passes it as a Pulumi Output.
 */
export type RawClusterArgs = { [key: string]: unknown };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A value as an error message quotes it. */
export function show(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value);
    if (value === undefined) return "undefined";
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** Collects errors while reading fields, so that all problems are reported at once. */
export class FieldReader {
    readonly errors: PropertyError[] = [];

    constructor(private readonly raw: RawClusterArgs) {}

    fail(key: string, reason: string): void {
        this.errors.push({ propertyPath: key, reason: `${key} ${reason}, got ${show(this.raw[key])}` });
    }

    integer(key: string, fallback: number, min: number, max: number): number {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            this.fail(key, `must be a whole number from ${min} to ${max}`);
            return fallback;
        }
        return value;
    }

    boolean(key: string, fallback: boolean): boolean {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "boolean") {
            this.fail(key, "must be true or false");
            return fallback;
        }
        return value;
    }

    nonEmptyString(key: string, fallback: string | undefined): string | undefined {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "string" || value.trim() === "") {
            this.fail(key, "must be a non-empty string");
            return fallback;
        }
        return value;
    }

    stringList(key: string, unique: boolean): string[] | undefined {
        const value = this.raw[key];
        if (value === undefined) return undefined;
        if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item.trim() === "")) {
            this.fail(key, "must be a list of non-empty strings");
            return undefined;
        }
        if (unique && new Set(value).size !== value.length) {
            this.fail(key, "must not list the same entry twice");
            return undefined;
        }
        return value as string[];
    }

    /** A list of whole numbers from min to max, each at most once. */
    integerList(key: string, fallback: readonly number[], min: number, max: number): number[] {
        const value = this.raw[key];
        if (value === undefined) return [...fallback];
        const valid =
            Array.isArray(value) &&
            value.every((v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) &&
            new Set(value).size === value.length;
        if (!valid) {
            this.fail(key, `must be a list of distinct whole numbers from ${min} to ${max}`);
            return [...fallback];
        }
        return value as number[];
    }

    /** A number (`whole`: an integer) from min to max, or undefined when absent. */
    optionalNumber(key: string, min: number, max: number, whole: boolean): number | undefined {
        const value = this.raw[key];
        if (value === undefined) return undefined;
        const valid = typeof value === "number" && Number.isFinite(value) && (!whole || Number.isInteger(value));
        if (!valid || value < min || value > max) {
            this.fail(key, `must be a ${whole ? "whole number" : "number"} from ${min} to ${max}`);
            return undefined;
        }
        return value;
    }

    oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
            this.fail(key, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
            return fallback;
        }
        return value as T;
    }

    envMap(key: string): Record<string, string> {
        const value = this.raw[key];
        if (value === undefined) return {};
        const isMap = typeof value === "object" && value !== null && !Array.isArray(value);
        const entries = isMap ? Object.entries(value as object) : [];
        const valid = isMap && entries.every(([name, v]) => ENV_NAME.test(name) && typeof v === "string");
        if (!valid) {
            this.fail(key, "must map variable names (letters, digits, _) to string values");
            return {};
        }
        return Object.fromEntries(entries) as Record<string, string>;
    }
}
