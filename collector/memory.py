"""Keep the collector's memory from staying at its peak after a burst of large requests.

CPython hands large buffers (request bodies, parsed batches) to glibc's ``malloc``, which by
default raises its mmap threshold after large frees, so later large buffers come from the heap
and their pages stay with the process; every thread may also get its own heap (arena), each
holding on to freed pages. ``tune_allocator`` fixes the mmap threshold (large buffers are
mapped and unmapped, so freeing them returns the memory at once), trims the heap top sooner and
caps the number of arenas. ``release_free_memory`` returns the free pages left after a burst.
Measured in ``bench/burst.py``. On C libraries other than glibc both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache

# mallopt(3) parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

MMAP_THRESHOLD = 256 * 1024
TRIM_THRESHOLD = 1024 * 1024
ARENA_MAX = 2


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None  # not glibc
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def tune_allocator() -> None:
    """Set glibc's malloc up for a server that sees bursts of large requests (idempotent; call
    before starting threads, so they share the capped arenas)."""
    libc = _glibc()
    if libc is None:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    libc.mallopt(_M_ARENA_MAX, ARENA_MAX)


def release_free_memory() -> None:
    """Collect cycles, then return free heap pages to the OS (glibc); a few milliseconds."""
    gc.collect(1)
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
