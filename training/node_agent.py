# ddpsim node agent: shapes the link, runs torchrun, stops deterministic failures, holds the stop grace period.
"""The main process of every ddpsim node (PID 1 of its container), shipped to every node as a file and started as

    python3 /opt/ddpsim/node_agent.py '<config json>' torchrun ...

It stays out of the script's way: torchrun runs the user's script exactly as configured, and its output passes
through unchanged. Around it the agent
  1. applies the interconnect profile with tc, then drops NET_ADMIN before torchrun starts;
  2. watches torchrun's failure reports: a worker that exits with one of `failFastExitCodes`, or fails with the
     same error line `failFastRepeats` times in a row (not counting deaths by a signal and errors of the
     distributed layer, which a restart can cure), stops the node for good: the agent prints one
     `DDPSIM_VERDICT {json}` line, records the verdict in the shared working directory, ends torchrun and exits
     with the worker's code. Every other node sees the record and stops too (exit 143). A Docker restart of a
     stopped node only repeats its verdict;
  3. on SIGTERM (docker stop, pulumi destroy), freezes torchrun, sends SIGTERM to the workers and lets them
     finish for the whole grace period (torchrun alone would kill them after 30 s), then ends torchrun.
  4. with `stopExitCode` (Kubernetes, where a pod that exits 0 is an index done for good): a node stopped before
     its script finished exits with that code even when its workers stopped cleanly, and so does a node whose
     workers stopped cleanly because a peer was stopped (a stop note on the shared working directory), so that the
     Job starts both again and they resume from the checkpoint.
Standard library only, Python >= 3.8: it runs in any image that has torchrun.
"""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

EXIT_SHAPING_FAILED = 78  # EX_CONFIG: the profile cannot be applied here
EXIT_STOPPED_BY_PEER = 143
EXIT_CANNOT_START = 126
VERDICT_PREFIX = "DDPSIM_VERDICT"
# What the agent keeps about itself, in the container's own filesystem (which a Docker restart keeps).
STATE_DIR = "/tmp/.ddpsim-node"
CAP_NET_ADMIN, PR_CAPBSET_DROP = 12, 24

# torchrun's report of a failed worker (torch.distributed.elastic.multiprocessing.api), e.g.
# "E1128 10:00:00.000000 45 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 2) local_rank: 0 (pid: 51) of binary: /usr/bin/python3"
WORKER_FAILED = re.compile(r"failed \(exitcode: (-?\d+)\) local_rank: (\d+) \(pid: (\d+)\)")
# The first error line of a log: the same rule as the CLI's (cli/logs/errorLine.ts), both tested on the logs of
# tests/fixtures/logs (tests/unit/firstErrorLine.test.ts). Change the two together.
RANK_PREFIX = re.compile(r"^\[(?:rank|default)\d+\]:\s?")
# torchrun's own log lines: glog style, c10d's "[E1128 ..."/"[W socket.cpp...", anything of torch/distributed/elastic/.
TORCHRUN_LINE = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s|\[[IWEF](\d{4} | ))")
ARGPARSE_ERROR = re.compile(r"^\S+(?: -m \S+)?: error: ")
PYTHON_ERROR = re.compile(r"^\S*python[\d.]*: (can't open file|No module named|Error while finding module)")
# "error: ...", "[rank 1/2 node 1] error: ...", "FATAL: ..." at the start of a line (not "val error: 0.12").
ERROR_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)?(error|fatal)\b\s*:", re.IGNORECASE)
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)|KeyError|StopIteration)(: |$)")
FRAME = re.compile(r'^\s+File ".*", line \d+')
TORCHRUN_FRAME = re.compile(r'^\s*File ".*(/torchrun|torch/distributed/(run|launch)\.py)", line \d+')

# Errors of the distributed layer or the network: a peer died, a link broke, a rendezvous timed out. A restart
# (torchrun's, Docker's) can cure them, so they never count as a deterministic failure.
TRANSIENT = re.compile(
    r"DistBackendError|DistNetworkError|DistStoreError|DistError|ProcessGroup|[Gg]loo|NCCL|[Rr]endezvous|"
    r"Connection (reset|closed|refused|aborted)|Broken pipe|[Tt]imed? ?out|TimeoutError|[Ss]ocket|"
    r"ECONNRESET|EPIPE|Signal \d+|SIGTERM|SIGKILL|Killed|"
    # a node cut off its network (ddpsim fault partition) or a name that does not resolve while it is
    r"No route to host|Network is unreachable|EHOSTUNREACH|ENETUNREACH|ECONNREFUSED|Unable to find address|"
    r"Name or service not known|Temporary failure in name resolution|[Nn]ame resolution"
)


# torchrun, run through this shim, honours the rendezvous settings ddpsim passes in --rdzv-conf on every torch:
#   keep_alive_interval, keep_alive_max_attempt: how often a node's agent says it is alive, and after how many missed
#     beats a node counts as dead and leaves the rendezvous (recent torch reads these keys itself; 2.6
#     keeps 5 s x 3, so a lost node held its peers for 15 s before they could rendezvous again);
#   later_last_call_timeout: ddpsim's own key: how long a rendezvous after the first (after a loss, or a node's
#     return) waits for more nodes once minNodes are there. The first rendezvous of a deployment keeps
#     last_call_timeout (torch's 30 s), so that nodes starting a few seconds apart all get into the first round.
# Whatever this torch lacks is left as torch has it.
TORCHRUN_SHIM = r"""
import sys
from datetime import datetime, timedelta, timezone


def ddpsim_rendezvous_settings():
    try:
        from torch.distributed.elastic.rendezvous import dynamic_rendezvous as dr, registry
        executor = dr._DistributedRendezvousOpExecutor
        original_add = executor._add_to_participants
    except (ImportError, AttributeError):
        return
    original_create = dr.create_handler

    def create_handler(store, backend, params):
        handler = original_create(store, backend, params)
        settings = handler.settings
        for key, make in (("keep_alive_interval", lambda v: timedelta(seconds=v)), ("keep_alive_max_attempt", int),
                          ("later_last_call_timeout", lambda v: timedelta(seconds=v))):
            value = params.get_as_int(key, None)
            if value is not None and value > 0:
                object.__setattr__(settings, "_ddpsim_" + key if key.startswith("later") else key, make(value))
        return handler

    def add_to_participants(self):
        original_add(self)
        state, settings = self._state, self._settings
        later = getattr(settings, "_ddpsim_later_last_call_timeout", None)
        if later is not None and state.round > 0 and len(state.participants) == settings.min_nodes and not state.complete:
            state.deadline = datetime.now(timezone.utc) + later

    dr.create_handler = create_handler
    registry.create_handler = create_handler
    executor._add_to_participants = add_to_participants


if sys.path and sys.path[0] == "":
    sys.path.pop(0)  # as the torchrun script, which does not import from the working directory
ddpsim_rendezvous_settings()
from torch.distributed.run import main  # noqa: E402
sys.argv[0] = "torchrun"
sys.exit(main())
"""


def torchrun_command(command):
    """`torchrun ARGS` as `python3 -c TORCHRUN_SHIM ARGS` (the same torchrun, see above); anything else as it is."""
    if command and os.path.basename(command[0]) == "torchrun":
        return [sys.executable or "python3", "-c", TORCHRUN_SHIM, *command[1:]]
    return command


def log(message):
    sys.stdout.write(f"[ddpsim {NODE}] {message}\n")
    sys.stdout.flush()


class ErrorLineFinder:
    """Finds the first error line of a log, fed line by line: an argparse `prog: error: ...` line, Python's own
    "can't open file" / "No module named", a line that starts with `error:` or `fatal:` (after one `[tag]`), the
    exception line that ends the first Python traceback (also a SyntaxError's, which has no Traceback header), or an
    exception line standing alone, whichever comes first. torchrun's own lines, tracebacks and ChildFailedError
    summary, and ddpsim's `[ddpsim ...]` lines are skipped; `[rank0]:` prefixes are removed."""

    def __init__(self):
        self.line = None
        self.mode = "scan"  # or "traceback", "summary"
        self.first_frame = True
        self.torchrun_trace = False
        self.rules = 0

    def push(self, raw):
        if self.line is not None:
            return
        text = RANK_PREFIX.sub("", raw.rstrip("\r\n"))
        if self.mode == "summary":
            # torchrun's ChildFailedError block sits between two rules of '='.
            if re.fullmatch(r"=+", text.strip()):
                self.rules += 1
                if self.rules >= 2:
                    self.mode = "scan"
            return
        if self.mode == "traceback":
            if text.strip() == "":
                return
            if text[:1].isspace():
                if self.first_frame and TORCHRUN_FRAME.match(text):
                    self.torchrun_trace = True
                if re.match(r'^\s*File "', text):
                    self.first_frame = False
                return
            self.mode = "scan"
            if "ChildFailedError" in text:
                self._start_summary()
            elif not self.torchrun_trace and not text.startswith("torch.distributed.elastic."):
                self.line = text.strip()
            return
        if text.startswith("[ddpsim") or TORCHRUN_LINE.match(text) or "torch/distributed/elastic/" in text:
            return
        if text.startswith("Traceback (most recent call last):"):
            self._start_traceback(False)
        elif FRAME.match(text):
            self._start_traceback(bool(TORCHRUN_FRAME.match(text)))
            self.first_frame = False
        elif "ChildFailedError" in text:
            self._start_summary()
        elif ARGPARSE_ERROR.match(text) or PYTHON_ERROR.match(text) or ERROR_PREFIX.match(text):
            self.line = text.strip()
        elif EXCEPTION_LINE.match(text) and not text.startswith("torch.distributed.elastic."):
            self.line = text.strip()

    def _start_traceback(self, torchrun):
        self.mode, self.first_frame, self.torchrun_trace = "traceback", True, torchrun

    def _start_summary(self):
        self.mode, self.rules = "summary", 0


def first_error_line(lines):
    """The first error line of `lines` (see ErrorLineFinder), or None."""
    finder = ErrorLineFinder()
    for line in lines:
        finder.push(line)
        if finder.line is not None:
            break
    return finder.line


class FailurePolicy:
    """Decides, failure by failure, whether a node stops for good. What it remembers (the last error and how often
    it came in a row) is kept in `state_path`, so that Docker's restarts of the container do not reset it."""

    def __init__(self, fatal_exit_codes, repeats, state_path=None):
        self.fatal_exit_codes = set(fatal_exit_codes)
        self.repeats = repeats
        self.state_path = state_path
        self.last_signature, self.count = None, 0
        if state_path is not None:
            try:
                with open(state_path) as f:
                    saved = json.load(f)
                self.last_signature, self.count = saved["signature"], int(saved["count"])
            except (OSError, ValueError, KeyError, TypeError):
                pass

    def _remember(self, signature, count):
        self.last_signature, self.count = signature, count
        if self.state_path is None:
            return
        try:
            os.makedirs(os.path.dirname(self.state_path), exist_ok=True)
            with open(self.state_path, "w") as f:
                json.dump({"signature": signature, "count": count}, f)
        except OSError:
            pass

    def judge(self, exit_code, error_line):
        """Returns (fatal, reason) for one failure of this node's workers."""
        if exit_code < 0:
            self._remember(None, 0)
            return False, f"killed by signal {-exit_code}; restartable"
        if exit_code in self.fatal_exit_codes:
            return True, f"exit code {exit_code} is in failFastExitCodes {sorted(self.fatal_exit_codes)}"
        if error_line is not None and TRANSIENT.search(error_line):
            self._remember(None, 0)
            return False, "an error of the distributed layer or the network; restartable"
        signature = [exit_code, error_line]
        count = self.count + 1 if signature == self.last_signature else 1
        self._remember(signature, count)
        if self.repeats > 0 and count >= self.repeats:
            return True, f"the same error {count} times in a row (failFastRepeats {self.repeats})"
        return False, f"failure {count} of {self.repeats} in a row with this error before the node stops"


# -- verdicts shared between nodes ---------------------------------------------------------------------------

def first_start_time(state_dir):
    """When this container first started; a Docker restart keeps its filesystem, so this survives restarts."""
    marker = os.path.join(state_dir, "first-start")
    try:
        with open(marker) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        now = time.time()
        try:
            os.makedirs(state_dir, exist_ok=True)
            with open(marker, "w") as f:
                f.write(repr(now))
        except OSError:
            pass
        return now


class Verdicts:
    """Verdict records in `<control dir>/<run id>/`; a record of another run, or (without a run id) one older than
    this container, is not ours."""

    def __init__(self, control_dir, run_id, first_start, own_fallback):
        self.run_id = run_id
        self.dir = os.path.join(control_dir, run_id or "no-run-id")
        self.first_start = first_start
        self.own_fallback = own_fallback  # the node's own verdict, also where the shared folder is not writable

    def _relevant(self, record):
        if record.get("runId", "") != self.run_id:
            return False
        return bool(self.run_id) or record.get("time", 0) >= self.first_start

    def read_all(self):
        found = []
        try:
            names = sorted(os.listdir(self.dir))
        except OSError:
            names = []
        paths = [os.path.join(self.dir, n) for n in names if n.startswith("verdict-") and n.endswith(".json")]
        for path in paths + [self.own_fallback]:
            try:
                with open(path) as f:
                    record = json.load(f)
            except (OSError, ValueError):
                continue
            if self._relevant(record) and record not in found:
                found.append(record)
        return sorted(found, key=lambda r: r.get("time", 0))

    def write(self, record):
        data = json.dumps(record, sort_keys=True)
        for path in (os.path.join(self.dir, f"verdict-{record['node']}.json"), self.own_fallback):
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                tmp = f"{path}.tmp-{os.getpid()}"
                with open(tmp, "w") as f:
                    f.write(data)
                os.replace(tmp, path)
            except OSError as error:
                log(f"warning: cannot record the verdict in {path}: {error}")

    def write_stop(self, record):
        """This node was stopped before its script finished: a note for its peers, whose workers stop with it."""
        path = os.path.join(self.dir, f"stop-{record['node']}.json")
        try:
            os.makedirs(self.dir, exist_ok=True)
            with open(f"{path}.tmp-{os.getpid()}", "w") as f:
                f.write(json.dumps(record, sort_keys=True))
            os.replace(f"{path}.tmp-{os.getpid()}", path)
        except OSError as error:
            log(f"warning: cannot leave the stop note {path}: {error}")

    def stops_since(self, since, own_node):
        """Stop notes of this run that other nodes left at or after `since`."""
        found = []
        try:
            names = sorted(os.listdir(self.dir))
        except OSError:
            names = []
        for name in names:
            if not (name.startswith("stop-") and name.endswith(".json")):
                continue
            try:
                with open(os.path.join(self.dir, name)) as f:
                    record = json.load(f)
            except (OSError, ValueError):
                continue
            if record.get("runId") == self.run_id and record.get("node") != own_node and record.get("time", 0) >= since:
                found.append(record)
        return found

    def remove_other_runs(self):
        """Records of earlier runs are of no use; a run id names the current one."""
        if not self.run_id:
            return
        parent = os.path.dirname(self.dir)
        try:
            names = os.listdir(parent)
        except OSError:
            return
        for name in names:
            if name == self.run_id:
                continue
            path = os.path.join(parent, name)
            try:
                for entry in os.listdir(path):
                    os.unlink(os.path.join(path, entry))
                os.rmdir(path)
            except OSError:
                pass


# -- the link profile ------------------------------------------------------------------------------------------

def apply_shaping(shaping):
    """Runs the profile's tc commands; on failure prints one line that says why and returns it."""
    profile = f'ddpsim: interconnect "{shaping["profile"]}"'
    for command in shaping["commands"]:
        try:
            done = subprocess.run(command["argv"], capture_output=True, text=True)
        except FileNotFoundError:
            return f"{profile} needs tc (package iproute2) in the image; not training unshaped."
        if done.returncode != 0:
            output = (done.stdout + done.stderr).replace("\n", " ").strip()
            if "qdisc kind is unknown" in output:
                return command["missingQdisc"]
            if "Operation not permitted" in output:
                return (f"{profile}: tc needs the NET_ADMIN capability, which uid {os.getuid()} lacks: run the node as "
                        "root (the cluster grants NET_ADMIN only while the link is shaped, then drops it); not training "
                        "unshaped.")
            return f"{profile}: {shlex.join(command['argv'])} failed: {output}"
    log(shaping["applied"])
    if os.getuid() == 0:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) != 0:
            return f"ddpsim: cannot drop NET_ADMIN: {os.strerror(ctypes.get_errno())}"
    return None


def apply_nccl_sockets(defaults):
    """NCCL's socket transport between nodes, tuned when the node has the CPUs for it (components/plan/ncclSockets.ts):
    each variable the node's environment does not set already, so the user's `env` wins."""
    if not defaults:
        return
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cpus < defaults["minCpus"]:
        log(f"NCCL socket settings left at NCCL's defaults: {cpus} CPUs here, the tuned ones need {defaults['minCpus']}")
        return
    applied = {k: v for k, v in defaults["env"].items() if k not in os.environ}
    os.environ.update(applied)
    if applied:
        log("NCCL sockets between nodes: " + " ".join(f"{k}={v}" for k, v in sorted(applied.items())) + f" ({cpus} CPUs)")


# -- processes ---------------------------------------------------------------------------------------------------

def switch_user(spec):
    """A preexec function that becomes `uid[:gid]` or `name[:group]` (after shaping as root), or None."""
    if not spec:
        return None
    import grp
    import pwd
    if spec == "@workspace":
        owner = os.stat(".")
        if owner.st_uid == 0:
            return None
        spec = f"{owner.st_uid}:{owner.st_gid}"
    name, _, group = spec.partition(":")
    entry = None
    if name.isdigit():
        uid = int(name)
        try:
            entry = pwd.getpwuid(uid)
        except KeyError:
            pass
    else:
        entry = pwd.getpwnam(name)
        uid = entry.pw_uid
    if group:
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    else:
        gid = entry.pw_gid if entry is not None else uid
    home = entry.pw_dir if entry is not None else "/tmp"

    def become():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        os.environ["HOME"] = home

    return become


def children_of(pid):
    """Pids whose parent is pid (torchrun's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def process_state(pid):
    """(state letter, raw wait status of a zombie or None), or (None, None) once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None, None
    fields = stat[stat.rfind(")") + 2:].split()
    state = fields[0]
    status = int(fields[49]) if state == "Z" and len(fields) > 49 else None
    return state, status


class Agent:
    def __init__(self, config, command):
        self.config = config
        self.command = command
        state = config.get("stateDir", STATE_DIR)
        self.policy = FailurePolicy(config.get("failFastExitCodes", [2]), config.get("failFastRepeats", 2),
                                    os.path.join(state, "failures.json"))
        self.verdicts = Verdicts(config["controlDir"], os.environ.get("DDPSIM_RUN_ID", ""), first_start_time(state),
                                 os.path.join(state, "verdict.json"))
        self.torchrun = None
        self.lock = threading.Lock()
        self.window = []  # the lines since the last failure (the last 400), for the first error line
        self.stopping = None  # why the agent is ending torchrun: "verdict", "peer", "signal"
        self.exit_code = None
        self.torchrun_status = None
        self.worker_failures = 0
        self.stop_exit_code = config.get("stopExitCode")
        self.started = time.time()  # this process's, not the node's first start: a new pod ignores older stop notes

    # output ------------------------------------------------------------------------------------------------
    def pump(self, source, sink):
        """Copies torchrun's output as it comes (progress bars need no newline) and feeds whole lines to the judge."""
        pending = b""
        while True:
            chunk = os.read(source, 65536)
            if not chunk:
                break
            if self.stopping in ("verdict", "peer"):
                continue  # torchrun's own shutdown report after the agent ended it: noise
            sink.write(chunk)
            sink.flush()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self.on_line(line.decode("utf-8", "replace"))
        if pending:
            self.on_line(pending.decode("utf-8", "replace"))

    def on_line(self, line):
        failed = WORKER_FAILED.search(line)
        with self.lock:
            if failed is None:
                self.window.append(line)
                del self.window[:-400]
                return
            error = first_error_line(self.window)
            self.window = []
        self.on_failure(int(failed.group(1)), error, f"local rank {failed.group(2)}")

    def on_failure(self, exit_code, error, who):
        self.worker_failures += 1
        if self.stopping is not None:
            return
        fatal, reason = self.policy.judge(exit_code, error)
        if not fatal:
            log(f"{who} failed with exit code {exit_code}{f' ({error})' if error else ''}: {reason}")
            return
        self.record_verdict(exit_code, error or f"exit code {exit_code}", reason)
        self.stop_torchrun("verdict", exit_code)

    def announce(self, record):
        shown = {k: v for k, v in record.items() if k != "runId"}
        if "stoppedBy" in record:
            log(f"stopping: {record['stoppedBy']} failed for good ({record['error']})")
        else:
            log(f"stopping for good, not retried: {record['error']} (exit code {record['exitCode']}; {record['reason']})")
        sys.stdout.write(f"{VERDICT_PREFIX} {json.dumps(shown, sort_keys=True)}\n")
        sys.stdout.flush()

    # peers -----------------------------------------------------------------------------------------------------
    def peer_verdict(self):
        for record in self.verdicts.read_all():
            return record
        return None

    def watch_peers(self):
        while self.stopping is None and self.exit_code is None:
            record = self.peer_verdict()
            if record is not None and record["node"] != NODE:
                self.announce_peer(record)
                self.stop_torchrun("peer", EXIT_STOPPED_BY_PEER)
                return
            time.sleep(1.0)

    def announce_peer(self, record):
        self.announce(self.verdict_record(EXIT_STOPPED_BY_PEER, record["error"], f"{record['node']} failed",
                                          stoppedBy=record["node"]))

    # stopping --------------------------------------------------------------------------------------------------
    def stop_torchrun(self, why, exit_code):
        with self.lock:
            if self.stopping is not None:
                return
            self.stopping, self.exit_code = why, exit_code
        process = self.torchrun
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except OSError:
            pass
        threading.Timer(15.0, self._kill_group).start()

    def _kill_group(self):
        if self.torchrun is not None and self.torchrun_status is None:
            try:
                os.killpg(self.torchrun.pid, signal.SIGKILL)
            except OSError:
                pass

    def on_signal(self, signum, _frame):
        name = signal.Signals(signum).name
        with self.lock:
            if self.stopping is not None:
                return
            self.stopping = "signal"
        threading.Thread(target=self.graceful_stop, args=(name,), daemon=True).start()

    def graceful_stop(self, name):
        """torchrun kills its workers 30 s after SIGTERM; frozen, it cannot, and the workers get the whole grace."""
        grace = float(self.config.get("graceSeconds", 30))
        deadline = time.monotonic() + max(grace - 3.0, 1.0)
        process = self.torchrun
        if self.stop_exit_code is not None:
            # Before the workers hear of it: they stop their peers' workers too, which must find this note.
            self.verdicts.write_stop({"node": NODE, "signal": name, "time": round(time.time(), 3), "runId": self.verdicts.run_id})
        if process is None:
            os._exit(EXIT_STOPPED_BY_PEER)
        workers = children_of(process.pid)
        log(f"{name}: asking {len(workers)} worker(s) to stop; up to {grace:.0f} s to finish")
        try:
            os.kill(process.pid, signal.SIGSTOP)
        except OSError:
            pass
        for pid in workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        statuses = {}
        while time.monotonic() < deadline and len(statuses) < len(workers):
            for pid in workers:
                if pid in statuses:
                    continue
                state, status = process_state(pid)
                if state is None or state == "Z":
                    statuses[pid] = status
            time.sleep(0.2)
        clean = len(statuses) == len(workers) and all(s == 0 for s in statuses.values())
        self.exit_code = 0 if clean and workers else EXIT_STOPPED_BY_PEER
        if self.stop_exit_code is not None:
            self.exit_code = self.stop_exit_code
            log(f"{name}: stopped before the script finished: exiting {self.stop_exit_code} (a Job counts exit 0 as this "
                "node done for good)")
        for sig in (signal.SIGCONT, signal.SIGTERM):
            try:
                os.kill(process.pid, sig)
            except OSError:
                pass
        # Once the workers are done there is nothing left to save: torchrun gets a few seconds to leave on its own.
        # (Node 0's torchrun often cannot: it waits in its exit barrier for the agents of nodes already stopped, in a
        # store call that does not return to Python for the signal, and would otherwise hold the whole grace.)
        threading.Timer(min(max(deadline - time.monotonic(), 0) + 2.0, 5.0), self._kill_group).start()

    # main ------------------------------------------------------------------------------------------------------
    def run(self):
        earlier = self.peer_verdict()
        if earlier is not None:
            if earlier["node"] == NODE:
                log(f"not starting again: this node failed for good ({earlier['error']}); a new run starts with "
                    "a new deployment (pulumi up after a change, or destroy and up)")
                return int(earlier["exitCode"])
            self.announce_peer(earlier)
            return EXIT_STOPPED_BY_PEER
        if self.config.get("rank") == 0:
            self.verdicts.remove_other_runs()

        shaping = self.config.get("shaping")
        if shaping:
            problem = apply_shaping(shaping)
            if problem is not None:
                sys.stderr.write(problem + "\n")
                sys.stderr.flush()
                self.on_failure_before_start(EXIT_SHAPING_FAILED, problem)
                return EXIT_SHAPING_FAILED

        apply_nccl_sockets(self.config.get("ncclSockets"))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.on_signal)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.torchrun = subprocess.Popen(torchrun_command(self.command), stdout=out_w, stderr=err_w, start_new_session=True,
                                             preexec_fn=switch_user(self.config.get("runAs")))
        except (OSError, KeyError, subprocess.SubprocessError) as error:
            problem = f"ddpsim: cannot start {self.command[0]} as user {self.config.get('runAs') or 'of the image'}: {error}"
            sys.stderr.write(problem + "\n")
            self.on_failure_before_start(EXIT_CANNOT_START, problem, "the node cannot start torchrun")
            return EXIT_CANNOT_START
        os.close(out_w)
        os.close(err_w)
        pumps = [threading.Thread(target=self.pump, args=(out_r, sys.stdout.buffer), daemon=True),
                 threading.Thread(target=self.pump, args=(err_r, sys.stderr.buffer), daemon=True)]
        for t in pumps:
            t.start()
        threading.Thread(target=self.watch_peers, daemon=True).start()

        code = self.reap_until_torchrun_exits()
        for t in pumps:
            t.join(timeout=5)
        if self.stopping in ("verdict", "peer", "signal") and self.exit_code is not None:
            return self.exit_code
        if code == 0 and self.stop_exit_code is not None:
            stops = self.verdicts.stops_since(self.started, NODE)
            if stops:
                log(f"the workers stopped because {stops[0]['node']} was stopped ({stops[0].get('signal', 'a signal')}) "
                    f"before the script finished: exiting {self.stop_exit_code} (a Job counts exit 0 as this node done for good)")
                return self.stop_exit_code
        if code in self.policy.fatal_exit_codes and self.stopping is None and not self.worker_failures:
            # torchrun itself failed before any worker did: its usage error (exit 2) is as final as a script's.
            with self.lock:
                error = first_error_line(self.window)
            self.on_failure_before_start(code, error or f"torchrun exited {code}",
                                         f"torchrun exit code {code} is in failFastExitCodes")
        return code

    def on_failure_before_start(self, exit_code, error, reason="a configuration the node cannot run"):
        self.record_verdict(exit_code, error, reason)

    def verdict_record(self, exit_code, error, reason, **extra):
        return {"node": NODE, "rank": self.config["rank"], "exitCode": exit_code, "error": error, "reason": reason,
                "time": round(time.time(), 3), "runId": self.verdicts.run_id, **extra}

    def record_verdict(self, exit_code, error, reason):
        """This node failed for good: the verdict is kept for every node and every restart, and said."""
        record = self.verdict_record(exit_code, error, reason)
        self.verdicts.write(record)
        self.announce(record)

    def reap_until_torchrun_exits(self):
        """PID 1 adopts orphans: reap everything, and keep torchrun's own status."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                return self.torchrun_status if self.torchrun_status is not None else 1
            except InterruptedError:
                continue
            if pid == self.torchrun.pid:
                self.torchrun.returncode = 0  # keep Popen from waiting on a reaped pid
                self.torchrun_status = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
                    else (-(status & 0x7F) if status & 0x7F else status >> 8)
                code = self.torchrun_status
                return 128 - code if code < 0 else code


def main():
    global NODE
    config = json.loads(sys.argv[1])
    NODE = config["node"]
    command = sys.argv[2:]
    sys.exit(Agent(config, command).run())


NODE = "node"
if __name__ == "__main__" and len(sys.argv) > 2:
    main()
