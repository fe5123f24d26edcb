"""SIGTERM/SIGINT only set a flag; the trainer finishes its step, agrees with the other ranks, checkpoints, exits 0.

`docker stop` and `pulumi destroy` send SIGTERM to torchrun, which forwards SIGTERM to its workers and
kills them 30 s later; a step plus a checkpoint must fit in that window.
"""
import faulthandler
import signal


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
