"""The BLAS thread policy: recurrent loops run their small products on one BLAS thread,
unless the user chose a thread count."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from gradstat.nn import GRU, LSTM, RNN
from gradstat.nn.layers import recurrent_kernels
from gradstat.threads import (
    SMALL_PRODUCT,
    USER_THREAD_VARIABLES,
    product_of_size,
    small_products,
    user_thread_setting,
)

STEP_KERNELS = {
    RNN: ("rnn_backward_step",),
    LSTM: ("lstm_forward_step", "lstm_backward_step"),
    GRU: ("gru_forward_step", "gru_backward_step"),
}


def blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.fixture
def no_user_setting(monkeypatch):
    for name in USER_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def observe_step_threads(monkeypatch, cls) -> dict[str, set[int]]:
    """Run a forward and backward pass, recording the BLAS threads seen inside each step."""
    seen: dict[str, set[int]] = {}
    for name in STEP_KERNELS[cls]:
        kernel = getattr(recurrent_kernels, name)

        def spy(*args, _kernel=kernel, _name=name):
            seen.setdefault(_name, set()).update(blas_threads())
            return _kernel(*args)

        monkeypatch.setattr(recurrent_kernels, name, spy)
    layer = cls(3, 4, seed=0)
    out = layer.forward(np.ones((2, 5, 3), np.float32))
    layer.backward(np.ones_like(out))
    return seen


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_recurrent_steps_run_on_one_blas_thread(monkeypatch, no_user_setting, cls):
    with threadpool_limits(2, user_api="blas"):
        seen = observe_step_threads(monkeypatch, cls)
        assert blas_threads() == {2}  # restored after the loops: large products use every core
    assert set(seen) == set(STEP_KERNELS[cls])
    assert all(threads == {1} for threads in seen.values()), seen


@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_a_thread_count_the_user_set_is_respected(monkeypatch, no_user_setting, variable):
    monkeypatch.setenv(variable, "2")
    assert user_thread_setting() == f"{variable}=2"
    with threadpool_limits(2, user_api="blas"):
        seen = observe_step_threads(monkeypatch, LSTM)
    assert seen["lstm_forward_step"] == {2}
    assert seen["lstm_backward_step"] == {2}


def test_small_products_restores_the_thread_count(no_user_setting):
    with threadpool_limits(2, user_api="blas"):
        with small_products():
            assert blas_threads() == {1}
        assert blas_threads() == {2}
    with threadpool_limits(1, user_api="blas"), small_products():
        assert blas_threads() == {1}


def test_a_lone_product_gets_one_thread_only_when_small(no_user_setting):
    with threadpool_limits(2, user_api="blas"):
        with product_of_size(SMALL_PRODUCT - 1):
            assert blas_threads() == {1}
        with product_of_size(SMALL_PRODUCT):
            assert blas_threads() == {2}
