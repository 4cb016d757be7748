"""Give memory freed after a burst back to the operating system.

CPython returns freed objects to its own allocator and to glibc's ``malloc``, which keeps the
pages (and raises its mmap threshold after large frees, so later large buffers come from the heap
as well). ``malloc_trim(0)`` returns every free page of every arena. On other C libraries this
is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from functools import cache

log = logging.getLogger(__name__)


@cache
def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


def release_free_memory() -> None:
    """Collect cycles, then return free heap pages to the OS (glibc); cheap (a few ms)."""
    gc.collect(1)
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
