"""Warnings caught around pydicom calls, one thread at a time.

``warnings.catch_warnings`` swaps the interpreter's global filters and ``showwarning``
and puts back what it found on exit; two threads inside it at once can put back each
other's temporary state, leaving warnings filtered or swallowed for good. dcmfast's
own blocks therefore take turns. They are short: pydicom's validation or one header
read, never decoding.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_TURNS = threading.RLock()


@contextmanager
def caught_warnings(action: str = "always") -> Iterator[list[warnings.WarningMessage]]:
    """Warnings of the block under filter `action`, recorded instead of shown."""
    with _TURNS, warnings.catch_warnings(record=True) as held:
        warnings.simplefilter(action)  # type: ignore[arg-type]
        yield held
