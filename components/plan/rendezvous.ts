/**
 * The rendezvous settings ddpsim passes to torchrun (`--rdzv-conf`), under the user's: a key the user sets in
 * `torchrunArgs` wins. Torch's own defaults keep a lost node in the rendezvous for 15 s (a heartbeat every 5 s, 3
 * missed) and let a shrunk rendezvous wait 30 s for more nodes, so a lost node's peers went on about a minute later.
 * The node agent makes torch versions that do not read the keep-alive keys honour them (training/node_agent.py).
 */
import { splitRendezvousConf } from "./torchrunArgs";

/** Every cluster: a node whose agent missed 3 heartbeats of 1 s is dead (also faster recovery after a crash). */
export const RENDEZVOUS_DEFAULTS: Record<string, string> = { keep_alive_interval: "1", keep_alive_max_attempt: "3" };

/**
 * Elastic clusters: a rendezvous after the first (after a loss or a return) completes 1 s after minNodes joined;
 * the first keeps torch's last_call_timeout (30 s), so that nodes starting a few seconds apart all get in.
 */
export const ELASTIC_RENDEZVOUS_DEFAULTS: Record<string, string> = { later_last_call_timeout: "1" };

/** `["--rdzv-conf", "k=v,..."]` (defaults under the user's values) and the user's other torchrun flags. */
export function rendezvousFlags(torchrunArgs: string[], elastic: boolean): { flags: string[]; rest: string[] } {
    const { conf, rest } = splitRendezvousConf(torchrunArgs);
    const merged = new Map<string, string>(Object.entries({ ...RENDEZVOUS_DEFAULTS, ...(elastic ? ELASTIC_RENDEZVOUS_DEFAULTS : {}) }));
    for (const [key, value] of conf) merged.set(key, value);
    return { flags: ["--rdzv-conf", [...merged].map(([k, v]) => `${k}=${v}`).join(",")], rest };
}
