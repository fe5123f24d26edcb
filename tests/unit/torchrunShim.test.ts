/**
 * The node agent's torchrun shim (training/node_agent.py, TORCHRUN_SHIM), run for real on this machine's python3
 * against a small stand-in of the torch 2.6 modules it patches (this machine has no torch; the CPU image's torch is
 * exercised end to end by tests/check/elastic.test.ts): `torchrun ARGS` becomes the same torchrun main with ARGS, and
 * the rendezvous settings from --rdzv-conf reach the handler and the executor.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packageTrainingDir } from "../../components/plan";

const nodeAgentSource = () => fs.readFileSync(path.join(packageTrainingDir(), "node_agent.py"), "utf8");

const FAKE_TORCH: Record<string, string> = {
    "torch/__init__.py": "",
    "torch/distributed/__init__.py": "",
    "torch/distributed/elastic/__init__.py": "",
    "torch/distributed/elastic/rendezvous/__init__.py": "",
    "torch/distributed/elastic/rendezvous/dynamic_rendezvous.py": `
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

@dataclass(frozen=True)
class RendezvousSettings:
    min_nodes: int
    keep_alive_interval: timedelta = timedelta(seconds=5)
    keep_alive_max_attempt: int = 3

class Handler:
    def __init__(self, settings):
        self._settings = settings
    @property
    def settings(self):
        return self._settings

def create_handler(store, backend, params):
    return Handler(RendezvousSettings(min_nodes=2))

class State:
    def __init__(self, round):
        self.round, self.participants, self.complete, self.deadline = round, {}, False, None

class _DistributedRendezvousOpExecutor:
    def __init__(self, settings, state):
        self._settings, self._state = settings, state
    def _add_to_participants(self):
        self._state.participants[len(self._state.participants)] = 0
        if len(self._state.participants) == self._settings.min_nodes:
            self._state.deadline = datetime.now(timezone.utc) + timedelta(seconds=30)
`,
    "torch/distributed/elastic/rendezvous/registry.py": "from .dynamic_rendezvous import create_handler\n",
    "torch/distributed/run.py": `
import sys
from datetime import datetime, timezone
from torch.distributed.elastic.rendezvous import dynamic_rendezvous as dr, registry

class Params:
    def __init__(self, conf):
        self.conf = conf
    def get_as_int(self, key, default=None):
        return int(self.conf[key]) if key in self.conf else default

def main():
    conf = dict(pair.split("=") for pair in sys.argv[sys.argv.index("--rdzv-conf") + 1].split(","))
    settings = registry.create_handler(None, None, Params(conf)).settings
    print("argv", sys.argv)
    print("keep-alive", settings.keep_alive_interval.total_seconds(), settings.keep_alive_max_attempt)
    for number in (0, 1):
        state = dr.State(number)
        executor = dr._DistributedRendezvousOpExecutor(settings, state)
        executor._add_to_participants()
        executor._add_to_participants()
        print("round", number, "last call", round((state.deadline - datetime.now(timezone.utc)).total_seconds()))
    return 0
`,
};

describe("the node agent's torchrun shim (rendezvous settings on torch without them)", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-shim-"));
        for (const [file, text] of Object.entries(FAKE_TORCH)) {
            fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
            fs.writeFileSync(path.join(dir, file), text);
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function shimRun(command: string[]): string {
        const program = `${nodeAgentSource()}\nimport subprocess\nsys.exit(subprocess.run(torchrun_command(${JSON.stringify(command)})).returncode)\n`;
        const run = spawnSync("python3", ["-c", program], { encoding: "utf8", env: { ...process.env, PYTHONPATH: dir }, timeout: 30_000 });
        assert.strictEqual(run.status, 0, run.stderr);
        return run.stdout;
    }

    it("runs torchrun's main with the same arguments, keep-alive from --rdzv-conf, the later last call only after round 0", () => {
        const out = shimRun(["torchrun", "--nnodes", "2:3", "--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=4,later_last_call_timeout=1", "/code/train.py", "--x"]);
        assert.match(out, /^argv \['torchrun', '--nnodes', '2:3', '--rdzv-conf', 'keep_alive_interval=1,keep_alive_max_attempt=4,later_last_call_timeout=1', '\/code\/train.py', '--x'\]$/m);
        assert.match(out, /^keep-alive 1.0 4$/m);
        assert.match(out, /^round 0 last call 30$/m);
        assert.match(out, /^round 1 last call 1$/m);
    });

    it("leaves torch's settings alone without the keys, and any other command as it is", () => {
        const out = shimRun(["torchrun", "--rdzv-conf", "join_timeout=900", "/code/train.py"]);
        assert.match(out, /^keep-alive 5.0 3$/m);
        assert.match(out, /^round 1 last call 30$/m);
        const other = spawnSync("python3", ["-c", `${nodeAgentSource()}\nprint(torchrun_command(["python3", "x.py"]))`], { encoding: "utf8" });
        assert.strictEqual(other.stdout.trim(), "['python3', 'x.py']");
    });
});
