"""The BLAS thread policy: more cores never make gradstat slower.

A large product (a batch's input projection, a weight gradient summed over every step or
image) is worth splitting across cores. A small one is not: a recurrent layer's step
multiplies a (batch, hidden) state by W_H, some 32 × 128 by 128 × 512, and OpenBLAS wakes,
splits and synchronises its threads for each such call, so that on two cores a step takes
longer than on one. gradstat therefore runs each *sequence* of small products — a recurrent
layer's loop over time, forward or backward — with BLAS limited to one thread, and leaves
the large products before and after the loop to every core. A lone product, such as a
convolution's, gets one thread when it is below ``SMALL_PRODUCT`` multiply-adds. Inside a
network pass (``NetworkPass``, entered by ``Sequential``) that one thread is kept rather than
restored after the product: LeNet's pooling, second convolution and small Dense products
follow on the same thread instead of waking OpenBLAS's others for each product, until a
large product or the end of the pass; the network's next pass starts where this one ended.
Least squares follows the same rule: a row block's Householder QR is level-2 BLAS (a
matrix-vector product and a rank-one update per column), so a narrow design's QR runs on one
thread; a Dask fit, whose partitions already run in parallel, runs every BLAS call on one
thread.

Such a network uses the other cores another way (``on_threads``): LeNet's small products
cannot use two cores, but two parts of a batch at once can. ``Sequential`` splits a large
batch into ``batch_workers`` parts, each run forward and backward through a copy of the
network (the same weights, its own caches) with BLAS on one thread, and ``predict`` gives each
copy its own run of batches.

A user who chose a thread count, through ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` (or
MKL's and BLIS's equivalents), keeps it: the policy then changes nothing. The limit is set
once per loop or pass, not per product (setting it costs a few microseconds, a product about
fifty).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType
from typing import TypeVar

from threadpoolctl import ThreadpoolController

USER_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")

SMALL_PRODUCT = 2**25  # multiply-adds below which one product runs on one BLAS thread (~1 ms)
SPLIT_PART = 2**14  # input elements below which a part of a batch is not worth a thread

_controller: list[ThreadpoolController] = []  # created on first use, not on import

T = TypeVar("T")


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


def batch_workers(batches: int) -> int:
    """How many threads ``batches`` batches (or parts of one) are spread across: BLAS's thread
    count (the cores it was given), at most one per batch; 1 when the user chose a thread
    count, which is then kept as it is."""
    if user_thread_setting() is not None:
        return 1
    return max(1, min(blas_threads(), batches))


def on_threads(work: Callable[[int], T], workers: int) -> list[T]:
    """``[work(0), …, work(workers − 1)]``, each call on a thread of its own (the caller's for
    ``work(0)``), with BLAS on one thread meanwhile: the workers are the parallelism. Every
    call ends before this returns; the first error is then raised."""
    if workers <= 1:
        return [work(0)]
    with small_products():
        futures = [_executor().submit(work, k) for k in range(1, workers)]
        try:
            first = work(0)
        finally:
            wait(futures)  # no part outlives the call, even when one failed
        return [first, *(future.result() for future in futures)]  # a part's error is raised here


_pool: list[tuple[int, ThreadPoolExecutor]] = []  # (the process id, its threads), made on first use


def _executor() -> ThreadPoolExecutor:
    """The worker threads, made on first use; a forked child makes its own (the parent's
    threads do not exist there)."""
    if not _pool or _pool[0][0] != os.getpid():
        _pool[:] = [(os.getpid(), ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="gradstat"))]
    return _pool[0][1]


def product_of_size(multiply_adds: int) -> AbstractContextManager[None]:
    """``small_products()`` for a product of fewer than ``SMALL_PRODUCT`` multiply-adds (a
    LeNet convolution), nothing for a larger one (a VGG convolution uses every core).

    Within a ``NetworkPass`` a small product instead starts (or continues) one-thread BLAS
    until the pass ends or a large product comes, so the small layers that follow it do not
    wake the other threads again for each product."""
    passes = _passes()
    current = passes[-1] if passes else None
    if current is None:
        return small_products() if multiply_adds < SMALL_PRODUCT else nullcontext()
    if multiply_adds < SMALL_PRODUCT:
        current.limit()
    else:
        current.lift()
    return nullcontext()


def product_in_pass(multiply_adds: int) -> None:
    """A product that joins the policy only within a ``NetworkPass`` already on one thread
    (a Dense layer after LeNet's convolutions): a small one stays there, a large one lifts
    the limit. Elsewhere (an MLP) it changes nothing: its threads are awake and pay."""
    passes = _passes()
    if passes and multiply_adds >= SMALL_PRODUCT:
        passes[-1].lift()


class NetworkPass:
    """One forward or backward pass of a network: the one-thread limit that a small product
    set (``product_of_size``) lasts until a large product or the end of the pass, which
    restores the thread counts. ``start_limited`` begins on one thread (the network's last
    pass ended there); ``ended_limited`` says, after the pass, whether this one did.
    Nested passes (a network inside a network) share the outermost one's state; each thread
    has its own passes.
    """

    def __init__(self, start_limited: bool = False) -> None:
        self.start_limited = start_limited
        self.ended_limited = False
        self._saved: list[int] | None = None
        self._outer: NetworkPass | None = None

    def __enter__(self) -> NetworkPass:
        passes = _passes()
        self._outer = passes[-1] if passes else None
        if self._outer is None:
            passes.append(self)
            if self.start_limited:
                self.limit()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._outer is not None:
            self.ended_limited = self._outer.limited
            return
        _passes().pop()
        self.ended_limited = self.limited
        self.lift()

    @property
    def limited(self) -> bool:
        return self._saved is not None

    def limit(self) -> None:
        """One BLAS thread from now on (unless the user chose a count, or it is one already)."""
        if self._saved is not None or user_thread_setting() is not None:
            return
        libs = _blas().lib_controllers
        saved = [lib.num_threads for lib in libs]
        if max(saved, default=1) <= 1:
            return
        for lib in libs:
            lib.set_num_threads(1)
        self._saved = saved

    def lift(self) -> None:
        """Back to the thread counts from before ``limit``."""
        if self._saved is None:
            return
        for lib, threads in zip(_blas().lib_controllers, self._saved, strict=True):
            lib.set_num_threads(threads)
        self._saved = None


_thread_state = threading.local()


def _passes() -> list[NetworkPass]:
    """This thread's outermost pass under way, if any."""
    if not hasattr(_thread_state, "passes"):
        _thread_state.passes = []
    passes: list[NetworkPass] = _thread_state.passes
    return passes


def _blas() -> ThreadpoolController:
    if not _controller:
        _controller.append(ThreadpoolController().select(user_api="blas"))
    return _controller[0]
