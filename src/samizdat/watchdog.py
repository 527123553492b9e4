"""A limit on the processor time one chapter's layout may use, so that a runaway layout stops with a finding
instead of seeming to hang.

The limits checked before layout (:mod:`samizdat.limits`) refuse the shapes of text
known to make WeasyPrint slow; this is the net for the ones nobody has found yet.
A chapter normally lays out in well under a second, and a 100,000-word chapter
(312 A5 pages) in 27 s of processor time (59 s on the clock on a busy two-core
machine), so the default of 300 s stops only what would run for many minutes.
``SAMIZDAT_LAYOUT_TIMEOUT`` (seconds) changes it: it is a setting of the machine
that builds, not of the book, so a manuscript cannot turn it off.

The timer is the process's processor time (``ITIMER_PROF``, ``SIGPROF``); its handler
raises in the main thread between two Python bytecodes. WeasyPrint's layout is Python
calling Pango for short stretches, so the handler runs promptly. Measured: with a
repeating wall-clock timer, handlers ran at most 0.61 s late during pathological
layouts (a 4,000-letter hyphenatable word for 158 s, a 3,000-row table, a 300 KB
line of code); with limits of 3 s and 7 s, a 4,400-letter word, 2,000 note calls in
a paragraph and a 3,000-row table each stopped at 2.7-3.0 s and 6.5-6.8 s of
processor time as ``time.process_time`` counts it (the kernel's timer runs a few
per cent ahead of it), 5.8-16.9 s on the clock of that busy machine. A build started
by :func:`samizdat.pipeline.build_all` runs in the main thread of its own process,
so the timer works there too.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BadSetting, ManuscriptError

VARIABLE = "SAMIZDAT_LAYOUT_TIMEOUT"
DEFAULT_SECONDS = 300.0


class _Expired(BaseException):
    """Raised by the alarm inside the layout. A ``BaseException``, like ``KeyboardInterrupt``, so that
    no ``except Exception`` in WeasyPrint (it has several, around images and fonts) can swallow it."""


def layout_limit() -> float:
    """Seconds a chapter's layout may take: ``SAMIZDAT_LAYOUT_TIMEOUT`` or the default."""
    value = os.environ.get(VARIABLE, "").strip()
    if not value:
        return DEFAULT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (0 < seconds < math.inf):
        raise BadSetting(f"error: {VARIABLE} must be a number of seconds above 0, such as 900, not {value!r}")
    return seconds


@contextmanager
def watching(chapter: Path, seconds: float | None = None) -> Iterator[None]:
    """Stop the work inside with ``error[C106]`` naming ``chapter`` once it has used ``seconds`` of processor time
    (default: :func:`layout_limit`).

    Processor time, not time on the clock: a runaway layout is all computation, and a
    busy machine (the other outputs of ``invoke build``, other programs) then does not
    bring the limit nearer. Signals reach only the main thread: elsewhere the work runs
    unwatched. A processor-time alarm set before (a profiler's) is restored afterwards;
    alarms on the clock (``SIGALRM``) are left alone.
    """
    seconds = layout_limit() if seconds is None else seconds
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    live = True

    def expire(signum: int, frame: object) -> None:
        if live:  # Not once the work is done: an alarm due at that very moment is too late to matter.
            raise _Expired

    used = time.process_time()
    previous_handler = signal.signal(signal.SIGPROF, expire)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    except _Expired:
        raise ManuscriptError("C106", chapter, f"laying this chapter out took over {seconds:g} s of processor time: split it into "
                                               "chapters, or look for a huge table, a very long paragraph or many notes; if it "
                                               f"is simply long, raise the limit: {VARIABLE}=900 (seconds)") from None
    finally:
        live = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous_handler)
        if previous_delay:
            remaining = max(previous_delay - (time.process_time() - used), 1e-6)
            signal.setitimer(signal.ITIMER_PROF, remaining, previous_interval)
