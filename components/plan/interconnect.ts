/**
 * Interconnect profiles: what the link between two simulated nodes looks like (bandwidth, latency, jitter,
 * loss), and the exact `tc` commands that make each node's network interface look like it. Pure.
 *
 * Every node shapes its own egress, so each direction of every node-to-node path crosses exactly one shaper:
 * a ring all-reduce sees `bandwidthMbit` per link and `latencyMs` one way. Bandwidth uses `tbf` (in every
 * kernel that has traffic control); latency, jitter and loss use `netem`, which some kernels lack.
 */

/** The link between nodes. Absent fields are not shaped. */
export interface LinkSpec {
    /** Egress rate of each node, in Mbit/s (10^6 bit/s). */
    bandwidthMbit?: number;
    /** Delay added to every packet a node sends, in milliseconds (one way). */
    latencyMs?: number;
    /** Random variation of that delay, +/- milliseconds (uniform). Needs a latency. */
    jitterMs?: number;
    /** Share of packets dropped, in percent. */
    lossPercent?: number;
}

/**
 * Named profiles. The Ethernet ones set bandwidth only: the Docker bridge already adds tens of microseconds,
 * about what one switch hop in a datacenter costs, and they then work on kernels without netem.
 */
export const INTERCONNECT_PRESETS = {
    /** Unshaped: the Docker bridge as it is (a few Gbit/s between containers, limited by the host's CPUs). */
    ideal: {},
    /** Fast Ethernet; slow enough that every host can reach it, so measurements can be checked. */
    "100mbit": { bandwidthMbit: 100 },
    "1gbe": { bandwidthMbit: 1_000 },
    "10gbe": { bandwidthMbit: 10_000 },
    "25gbe": { bandwidthMbit: 25_000 },
    "100gbe": { bandwidthMbit: 100_000 },
    /** A shared, oversubscribed link: 1 Gbit/s left, queueing delay, some loss. Needs netem. */
    congested: { bandwidthMbit: 1_000, latencyMs: 1, jitterMs: 0.5, lossPercent: 0.1 },
    /** Nodes in two sites: 100 Mbit/s, 20 ms one way. Needs netem. */
    wan: { bandwidthMbit: 100, latencyMs: 20, jitterMs: 2, lossPercent: 0.01 },
} as const satisfies Record<string, LinkSpec>;

export type InterconnectPreset = keyof typeof INTERCONNECT_PRESETS;
export const INTERCONNECT_PRESET_NAMES = Object.keys(INTERCONNECT_PRESETS) as InterconnectPreset[];

/** The DdpCluster argument behind each LinkSpec field, for messages. */
export const LINK_KEYS: Record<keyof LinkSpec, string> = {
    bandwidthMbit: "linkBandwidthMbit",
    latencyMs: "linkLatencyMs",
    jitterMs: "linkJitterMs",
    lossPercent: "linkLossPercent",
};

/** A profile after the preset and the explicit overrides are merged. */
export interface InterconnectPlan {
    /** The preset it started from. */
    preset: string;
    link: LinkSpec;
    /** Whether anything is shaped (else no tc runs and no NET_ADMIN is granted). */
    shaped: boolean;
}

/** The preset's link with every override that is set replacing its field; zero means "not shaped". */
export function resolveInterconnect(preset: InterconnectPreset, overrides: LinkSpec): InterconnectPlan {
    const merged: LinkSpec = { ...INTERCONNECT_PRESETS[preset] };
    for (const key of Object.keys(LINK_KEYS) as (keyof LinkSpec)[]) {
        if (overrides[key] !== undefined) merged[key] = overrides[key];
    }
    const link: LinkSpec = {};
    for (const key of Object.keys(LINK_KEYS) as (keyof LinkSpec)[]) {
        const value = merged[key];
        if (value !== undefined && value > 0) link[key] = value;
    }
    return { preset, link, shaped: Object.keys(link).length > 0 };
}

/** A kernel qdisc a profile needs, and how its kernel feature is called. */
export const QDISC_FEATURES = {
    tbf: { module: "sch_tbf", config: "CONFIG_NET_SCH_TBF" },
    netem: { module: "sch_netem", config: "CONFIG_NET_SCH_NETEM" },
} as const;
export type Qdisc = keyof typeof QDISC_FEATURES;

/** One `tc` invocation of a profile: its argv, the qdisc it creates and the settings that asked for it. */
export interface TcCommand {
    argv: string[];
    qdisc: Qdisc;
    keys: string[];
}

/** How long tbf's bucket lets a node send at line rate: the notes measured 1 Gbit/s reached with ~8 ms. */
export const TBF_BURST_MS = 8;
/** The smallest bucket: a few full-size frames, so a slow link still passes segmentation-offloaded packets. */
export const TBF_MIN_BURST_BYTES = 32 * 1024;
/** How long a packet may wait in tbf's queue before it is dropped (sets the queue length). */
export const TBF_LATENCY_MS = 50;
const ASSUMED_LINE_RATE_MBIT = 10_000;
const MTU = 1500;

/** tc's rate syntax: `100mbit`, or kbit for fractions (`1500kbit`). 1 mbit = 10^6 bit/s in tc. */
export function tcRate(mbit: number): string {
    return Number.isInteger(mbit) ? `${mbit}mbit` : `${Math.round(mbit * 1000)}kbit`;
}

/** tc's time syntax: whole milliseconds as `2ms`, anything finer in microseconds (`1500us`). */
export function tcTime(ms: number): string {
    const us = Math.round(ms * 1000);
    return us % 1000 === 0 ? `${us / 1000}ms` : `${us}us`;
}

/** tbf's bucket in bytes: about rate x 8 ms, at least TBF_MIN_BURST_BYTES. */
export function tbfBurstBytes(mbit: number): number {
    return Math.max(Math.round((mbit * 1e6) / 8 * (TBF_BURST_MS / 1000)), TBF_MIN_BURST_BYTES);
}

/** netem's queue (packets) must hold everything in flight during the delay, or it drops what a real link would not. */
export function netemLimitPackets(link: LinkSpec): number {
    const seconds = ((link.latencyMs ?? 0) + (link.jitterMs ?? 0)) / 1000;
    const bytesPerSecond = ((link.bandwidthMbit ?? ASSUMED_LINE_RATE_MBIT) * 1e6) / 8;
    return Math.max(1000, Math.ceil(((bytesPerSecond * seconds) / MTU) * 2));
}

function linkKeys(link: LinkSpec, fields: (keyof LinkSpec)[]): string[] {
    return fields.filter((f) => link[f] !== undefined).map((f) => LINK_KEYS[f]);
}

/**
 * The tc commands that shape `iface` for a profile, in order. netem (latency, jitter, loss) is the root and
 * tbf (bandwidth) its child, as the netem documentation combines them; either alone is the root. `replace`
 * makes them idempotent across container restarts.
 */
export function tcCommands(link: LinkSpec, iface: string): TcCommand[] {
    const netemKeys = linkKeys(link, ["latencyMs", "jitterMs", "lossPercent"]);
    const commands: TcCommand[] = [];
    const dev = ["tc", "qdisc", "replace", "dev", iface];
    if (netemKeys.length > 0) {
        const args = ["limit", String(netemLimitPackets(link))];
        if (link.latencyMs !== undefined) {
            args.push("delay", tcTime(link.latencyMs));
            if (link.jitterMs !== undefined) args.push(tcTime(link.jitterMs));
        }
        if (link.lossPercent !== undefined) args.push("loss", `${link.lossPercent}%`);
        commands.push({ argv: [...dev, "root", "handle", "1:", "netem", ...args], qdisc: "netem", keys: netemKeys });
    }
    if (link.bandwidthMbit !== undefined) {
        const parent = netemKeys.length > 0 ? ["parent", "1:1", "handle", "10:"] : ["root", "handle", "1:"];
        commands.push({
            argv: [
                ...dev, ...parent, "tbf",
                "rate", tcRate(link.bandwidthMbit),
                "burst", String(tbfBurstBytes(link.bandwidthMbit)),
                "latency", tcTime(TBF_LATENCY_MS),
            ],
            qdisc: "tbf",
            keys: ["linkBandwidthMbit"],
        });
    }
    return commands;
}

/** One line saying what a profile does, e.g. `100 Mbit/s, +1 ms +/- 0.5 ms, 0.1% loss`. */
export function describeLink(link: LinkSpec): string {
    const parts: string[] = [];
    if (link.bandwidthMbit !== undefined) parts.push(`${link.bandwidthMbit} Mbit/s`);
    if (link.latencyMs !== undefined) {
        parts.push(`+${link.latencyMs} ms${link.jitterMs !== undefined ? ` +/- ${link.jitterMs} ms` : ""}`);
    }
    if (link.lossPercent !== undefined) parts.push(`${link.lossPercent}% loss`);
    return parts.length === 0 ? "unshaped" : parts.join(", ");
}

/** The one line a node prints when its kernel lacks a qdisc that the profile needs. */
export function missingQdiscMessage(plan: InterconnectPlan, command: TcCommand): string {
    const feature = QDISC_FEATURES[command.qdisc];
    const settings = command.keys
        .map((key) => {
            const field = (Object.keys(LINK_KEYS) as (keyof LinkSpec)[]).find((f) => LINK_KEYS[f] === key)!;
            return `${key}=${plan.link[field]}`;
        })
        .join(", ");
    return (
        `ddpsim: interconnect "${plan.preset}" needs the ${command.qdisc} qdisc for ${settings}, but the Docker ` +
        `host's kernel lacks it (module ${feature.module}, ${feature.config}); not training unshaped. Use a kernel ` +
        `with ${feature.module}, or a profile without ${command.keys.join("/")}.`
    );
}

/** Characters that never need quoting in a POSIX shell word. */
const SHELL_SAFE = /^[A-Za-z0-9_\-+=.,:/@%^]+$/;

/** Quotes one word for a POSIX shell: as it is when safe, else in single quotes (`'` as `'\''`). */
export function shellQuote(word: string): string {
    if (SHELL_SAFE.test(word)) return word;
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes every word and joins them with spaces: a command line that a shell splits back into `words`. */
export function shellJoin(words: string[]): string {
    return words.map(shellQuote).join(" ");
}

/** Exit status of a node whose profile cannot be applied (EX_CONFIG): a configuration error, not a crash. */
export const SHAPING_FAILED_EXIT = 78;

/**
 * What the node agent (training/node_agent.py) needs to shape a node's link: the commands, and the messages that only
 * the plan can word (the agent words the others: no tc in the image, no NET_ADMIN, a tc command that failed).
 */
export interface ShapingConfig {
    /** The profile's name (the `interconnect` preset), for the agent's messages. */
    profile: string;
    /** The line printed once the link is shaped. */
    applied: string;
    commands: { argv: string[]; missingQdisc: string }[];
}

/**
 * The shaping the node agent applies before torchrun starts, or undefined for an unshaped link. Any tc failure
 * prints one of these lines and ends the node with SHAPING_FAILED_EXIT (a verdict: not retried, never unshaped).
 */
export function shapingConfig(plan: InterconnectPlan, iface: string): ShapingConfig | undefined {
    if (!plan.shaped) return undefined;
    return {
        profile: plan.preset,
        applied: `interconnect "${plan.preset}" on ${iface}: ${describeLink(plan.link)}`,
        commands: tcCommands(plan.link, iface).map((command) => ({ argv: command.argv, missingQdisc: missingQdiscMessage(plan, command) })),
    };
}

/** What a node running as root may need on files (a volume first written by another uid); nothing else. */
export const ROOT_FILE_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER"] as const;

/**
 * Capabilities of a node: it drops ALL of Docker's defaults and adds back only what it needs. A root node keeps
 * the file capabilities; a shaped node (started as root) also gets NET_ADMIN for tc, SETPCAP to drop NET_ADMIN
 * again before torchrun starts, and SETUID/SETGID for its agent to switch to the training's user. A node that runs as `user` from
 * the start (no shaping) needs none: a non-root process has no effective capabilities anyway.
 */
export function nodeCapabilities(plan: InterconnectPlan, user?: string): { adds: string[]; drops: string[] } {
    const adds: string[] = [];
    if (plan.shaped || user === undefined || /^0(:|$)|^root(:|$)/.test(user)) adds.push(...ROOT_FILE_CAPABILITIES);
    if (plan.shaped) adds.push("NET_ADMIN", "SETPCAP", "SETUID", "SETGID");
    return { adds, drops: ["ALL"] };
}
