"""The BLAS thread policy: more cores never make gradstat slower.

A large product (a batch's input projection, a weight gradient summed over every step or
image) is worth splitting across cores. A small one is not: a recurrent layer's step
multiplies a (batch, hidden) state by W_H, some 32 × 128 by 128 × 512, and OpenBLAS wakes,
splits and synchronises its threads for each such call, so that on two cores a step takes
longer than on one. gradstat therefore runs each *sequence* of small products — a recurrent
layer's loop over time, forward or backward — with BLAS limited to one thread, and leaves
the large products before and after the loop to every core. A lone product, such as a
convolution's, gets one thread when it is below ``SMALL_PRODUCT`` multiply-adds. Least squares
follows the same rule: a row block's Householder QR is level-2 BLAS (a matrix-vector product and
a rank-one update per column), so a narrow design's QR runs on one thread; a Dask fit, whose
partitions already run in parallel, runs every BLAS call on one thread.

A user who chose a thread count, through ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` (or
MKL's and BLIS's equivalents), keeps it: the policy then changes nothing. The limit is set
once per loop, not per product (setting it costs a few microseconds, a product about fifty).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from threadpoolctl import ThreadpoolController

USER_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")

SMALL_PRODUCT = 2**25  # multiply-adds below which one product runs on one BLAS thread (~1 ms)

_controller: list[ThreadpoolController] = []  # created on first use, not on import


def user_thread_setting() -> str | None:
    """The first of ``USER_THREAD_VARIABLES`` set in the environment, as ``NAME=value``."""
    for name in USER_THREAD_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return f"{name}={value}"
    return None


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses now (the largest, if several are loaded)."""
    blas = _blas()
    return max((lib.num_threads for lib in blas.lib_controllers), default=1)


@contextmanager
def small_products() -> Iterator[None]:
    """Run the block's BLAS calls on one thread, unless the user set a thread count.

    Enter it around a loop of small products, never around each product.
    """
    if user_thread_setting() is not None or blas_threads() <= 1:
        yield
        return
    with _blas().limit(limits=1):
        yield


def product_of_size(multiply_adds: int) -> AbstractContextManager[None]:
    """``small_products()`` for a product of fewer than ``SMALL_PRODUCT`` multiply-adds (a
    LeNet convolution), nothing for a larger one (a VGG convolution uses every core)."""
    return small_products() if multiply_adds < SMALL_PRODUCT else nullcontext()


def _blas() -> ThreadpoolController:
    if not _controller:
        _controller.append(ThreadpoolController().select(user_api="blas"))
    return _controller[0]
