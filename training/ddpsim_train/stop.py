"""SIGTERM/SIGINT only set a flag; the trainer finishes its step, agrees with the other ranks, checkpoints, exits 0.
A rank that stopped only because another rank was signalled exits 0 only once it is signalled too (wait_for_own_stop).

`docker stop` and `pulumi destroy` send SIGTERM to torchrun, which forwards SIGTERM to its workers and
kills them 30 s later; a step plus a checkpoint must fit in that window.
"""
import faulthandler
import signal
import time


def install_stack_dumps():
    """`kill -USR1 <pid>` prints every thread's Python stack to stderr: where a hung rank is waiting."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)


class StopFlag:
    """Installed once the training loop starts: before that a signal ends the process at once (nothing is lost,
    and a rank blocked in init_process_group could not run a Python handler anyway)."""

    def __init__(self):
        self.signal_name = None

    def install(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, _frame):
        self.signal_name = signal.Signals(signum).name

    @property
    def requested(self):
        return self.signal_name is not None


class PeerStopped(RuntimeError):
    """Another rank was stopped by a signal and this one was not: its node is not being stopped, so it must not
    report success (torchrun would count the node as finished and never put it into the next rendezvous)."""


def wait_for_own_stop(stop, step, seconds, tag):
    """After a stop that came from another rank: waits up to `seconds` for this rank's own SIGTERM/SIGINT. It comes
    when the whole cluster stops (`pulumi destroy`, `docker stop` of every node) or when this node's torchrun restarts
    its workers for a node joining the rendezvous; then the rank exits 0 like the others. When it does not come, only
    another node was stopped (or its torchrun restarted alone): PeerStopped, a failure torchrun restarts (the
    message names the rendezvous, so that ddpsim's node agent counts it as restartable)."""
    started = time.monotonic()
    while not stop.requested and time.monotonic() < started + seconds:
        time.sleep(0.05)
    if stop.requested:
        print(f"{tag} stopped after step {step} by another rank's signal; its own {stop.signal_name} came "
              f"{time.monotonic() - started:.1f} s later", flush=True)
    else:
        raise PeerStopped(f"another rank was stopped by a signal after step {step} and this one was not within "
                          f"{seconds:g} s (--peer-stop-wait): leaving so that torchrun restarts it into the next "
                          f"rendezvous")
