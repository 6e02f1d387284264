"""Stopping a run cleanly on a signal: SIGTERM (a scheduler, ``kill``, a container stop) is
treated like a polite Ctrl-C.

The signal handler only sets a flag; the loop stops after the current optimizer step, so the
parameters, the optimizer and the counters are consistent, and the :class:`Checkpoint`
callback saves the run as ``fit`` returns (``save_on_train_end``). Resuming it continues bit for
bit. A second signal interrupts at once (``KeyboardInterrupt``), for a user who will not wait.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from typing import Any

from gdlab.train.callbacks import Callback

__all__ = ["GracefulStop"]


class GracefulStop(Callback):
    """Stop ``fit`` after the current step when one of ``signals`` arrives.

    After ``fit`` returns, :attr:`received` is the signal number (None if none came) and
    :attr:`exit_code` the shell's convention for it (``128 + signum``: 143 for SIGTERM), so a
    command can write what is finished and exit as if killed. The handlers are installed when
    training begins and the previous ones restored when it ends; it must run in the main thread
    (Python delivers signals only there).

    Args:
        signals: the signals to catch. Default ``(SIGTERM,)``; add ``SIGINT`` to make Ctrl-C
            graceful too.

    Example:
        >>> stop = GracefulStop()
        >>> history = fit(model, loss, opt, loader, epochs=10, run_dir="run", callbacks=[stop])
        >>> if stop.received is not None:
        ...     sys.exit(stop.exit_code)  # doctest: +SKIP
    """

    def __init__(self, signals: Sequence[int] = (signal.SIGTERM,)) -> None:
        if not signals:
            raise ValueError("GracefulStop: signals must name at least one signal")
        self.signals = tuple(signal.Signals(s) for s in signals)
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def exit_code(self) -> int | None:
        """``128 + signum`` after a signal (143 for SIGTERM, 130 for SIGINT), else None."""
        return None if self.received is None else 128 + self.received

    def _handle(self, signum: int, frame: Any) -> None:
        # only flags: the handler runs between any two bytecodes, even inside state_dict()
        if self.received is not None:  # the second one: do not wait
            raise KeyboardInterrupt(f"{signal.Signals(signum).name} received twice")
        self.received = signum
        self.trainer.stop_training = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise ValueError(
                "GracefulStop: signal handlers can only be installed in the main thread; "
                f"fit is running in {threading.current_thread().name!r}"
            )
        self.received = None
        for s in self.signals:
            self._previous[s] = signal.signal(s, self._handle)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.received is not None:  # before the Checkpoint callback, which runs last
            self.trainer.history.events.append(
                {
                    "event": "interrupted",
                    "signal": signal.Signals(self.received).name,
                    "step": self.trainer.global_step,
                }
            )
        self._restore()

    def on_exception(self, exception: BaseException) -> None:
        self._restore()  # any exception ending fit (divergence, Ctrl-C, a bug in a callback)

    def _restore(self) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}
