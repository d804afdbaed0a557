"""Ctrl-C and SIGTERM stop training between steps, never inside one.

Raised from the signal handler itself, KeyboardInterrupt lands wherever Python happens
to be: inside a lock that logging or TensorFlow holds, or halfway through building a
tf.data iterator. The process can then hang instead of saving and exiting (a CLI test
saw it once, on a loaded machine). So while `deferred()` is active the first signal
only marks the stop, and `StopAtSignal` raises it at the next batch end, where
nothing is half done; a second signal raises at once, for a step that never ends.
"""

import contextlib
import signal
import threading

import keras

from tfgan.errors import Terminated

_pending = []  # the signal received and not yet raised: at most one, as a second raises at once


def _handler(signum, frame):
    if _pending:  # the second one: stop now
        _pending.clear()
        raise _exception(signum)
    _pending.append(signum)


def _exception(signum):
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def raise_pending():
    """Raises the stop a signal asked for, if one did."""
    if _pending:
        raise _exception(_pending.pop())


@contextlib.contextmanager
def deferred():
    """Within it, SIGINT and SIGTERM stop at the next `raise_pending()` (each batch end)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
        raise_pending()  # a signal after the last batch still stops the run as a stop
    finally:
        _pending.clear()
        for s, handler in previous.items():
            signal.signal(s, handler)


class StopAtSignal(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        raise_pending()
