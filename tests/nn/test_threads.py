"""The BLAS thread policy: recurrent loops run their small products on one BLAS thread,
unless the user chose a thread count."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from gradstat import threads
from gradstat.nn import GRU, LSTM, RNN, Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU, Sequential
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


class Probe(Layer):
    """Records the BLAS threads seen in its forward and backward passes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def forward(self, x):
        self.seen.append(max(blas_threads()))
        return x

    def backward(self, grad_output, *, input_grad=True):
        self.seen.append(max(blas_threads()))
        return grad_output


def small_cnn(probe: Layer, width: int = 8) -> Sequential:
    """Conv (2·6·6·3·9 = 1,944 multiply-adds: small) → pool → Dense(27, width) → probe → Dense."""
    return Sequential([Conv2D(1, 3, 3, seed=0), ReLU(), MaxPool2D(2), Flatten(),
                       Dense(27, width, seed=1), probe, ReLU(), Dense(width, 2, seed=2)])  # fmt: skip


def train_twice(model: Sequential, x: np.ndarray) -> None:
    for _ in range(2):
        model.backward(model.forward(x))
        assert blas_threads() == {2}  # restored after each pass: the caller's BLAS is untouched


def test_after_a_small_convolution_the_rest_of_the_pass_stays_on_one_thread(no_user_setting):
    probe = Probe()
    with threadpool_limits(2, user_api="blas"):
        train_twice(small_cnn(probe), np.ones((2, 1, 8, 8), np.float32))
    # forward: after the conv; backward: from the start, as the forward pass ended on one thread
    assert probe.seen == [1, 1, 1, 1], probe.seen


def test_a_large_product_lifts_the_one_thread_limit(monkeypatch, no_user_setting):
    monkeypatch.setattr(threads, "SMALL_PRODUCT", 2 * 27 * 500)  # the conv stays small, Dense(27, 500) is not
    probe = Probe()
    with threadpool_limits(2, user_api="blas"):
        train_twice(small_cnn(probe, width=500), np.ones((2, 1, 8, 8), np.float32))
    assert probe.seen == [2, 2, 2, 2], probe.seen


def test_a_network_without_small_convolutions_keeps_every_thread(no_user_setting):
    probe = Probe()
    model = Sequential([Dense(8, 8, seed=0), probe, ReLU(), Dense(8, 2, seed=1)])  # an MLP
    with threadpool_limits(2, user_api="blas"):
        train_twice(model, np.ones((4, 8), np.float32))
    assert probe.seen == [2, 2, 2, 2], probe.seen


def test_a_network_pass_keeps_the_users_thread_count(monkeypatch, no_user_setting):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    probe = Probe()
    with threadpool_limits(2, user_api="blas"):
        train_twice(small_cnn(probe), np.ones((2, 1, 8, 8), np.float32))
    assert probe.seen == [2, 2, 2, 2], probe.seen


def test_an_error_inside_a_pass_restores_the_thread_count(no_user_setting):
    class Fails(Layer):
        def forward(self, x):
            raise ArithmeticError("boom")

    model = Sequential([Conv2D(1, 3, 3, seed=0), Fails()])
    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ArithmeticError):
            model.forward(np.ones((2, 1, 8, 8), np.float32))
        assert blas_threads() == {2}
