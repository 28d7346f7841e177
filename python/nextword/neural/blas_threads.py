"""How many threads numpy's BLAS (OpenBLAS) may use, for a while.

The demo's neural models are tiny: each matrix product takes well under a
millisecond, and a second BLAS thread costs more in waking and waiting than it
saves. When the cores are busy it costs far more: a 512x128 by 512x128
gradient product measured 9 ms with OpenBLAS's two threads against 0.6 ms
with one, on this project's 2-core machine under a load of 12. The benchmarks
set ``OPENBLAS_NUM_THREADS`` before numpy loads; a command already running
(``nextword demo``) cannot, so it asks the loaded OpenBLAS through its own C
functions, as ``threadpoolctl`` does, and restores the old count afterwards.

Where numpy uses another BLAS (Accelerate, MKL) nothing changes.

>>> with blas_threads(1):
...     pass
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Optional

# (get, set) function names, newest first: numpy >= 2 wheels bundle
# scipy-openblas with its own prefix; older ones and system builds use OpenBLAS's.
_FUNCTIONS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


def _candidate_paths() -> list[str]:
    """OpenBLAS libraries this process has loaded (Linux lists them in
    /proc/self/maps), then those numpy bundles beside itself."""
    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rsplit(" ", 1)[-1].strip()
                if "openblas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    import numpy

    root = os.path.dirname(os.path.abspath(numpy.__file__))
    for folder in (root + ".libs", os.path.join(root, ".dylibs"), os.path.join(root, ".libs")):
        found = sorted(glob.glob(os.path.join(folder, "*openblas*")))
        paths.extend(p for p in found if p not in paths)
    return paths


def _openblas() -> Optional[tuple[Callable[[], int], Callable[[int], None]]]:
    """The loaded OpenBLAS's (get, set) thread-count functions, if there is one."""
    for path in _candidate_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _FUNCTIONS:
            get = getattr(lib, get_name, None)
            set_ = getattr(lib, set_name, None)
            if get is not None and set_ is not None:
                get.restype = ctypes.c_int
                get.argtypes = []
                set_.restype = None
                set_.argtypes = [ctypes.c_int]
                return get, set_
    return None


def current_blas_threads() -> Optional[int]:
    """The thread count of numpy's OpenBLAS, or None when numpy uses another BLAS."""
    functions = _openblas()
    return None if functions is None else int(functions[0]())


@contextmanager
def blas_threads(n: int) -> Iterator[Optional[int]]:
    """Let numpy's OpenBLAS use at most ``n`` threads inside the ``with`` block;
    yields the count it had before (None, and no change, without OpenBLAS)."""
    if n < 1:
        raise ValueError(f"blas_threads needs n >= 1, not {n}")
    functions = _openblas()
    if functions is None:
        yield None
        return
    get, set_ = functions
    before = int(get())
    set_(min(n, before))
    try:
        yield before
    finally:
        set_(before)


__all__ = ["blas_threads", "current_blas_threads"]
