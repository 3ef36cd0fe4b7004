"""A batch split across cores: each part runs through a copy of the network on a thread of its
own, and the outputs and gradients are still those of the whole batch (PyTorch autograd as
the oracle); the split happens only where it may."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from gradstat.nn import (
    BatchNorm2D,
    Conv2D,
    CrossEntropy,
    Dense,
    Flatten,
    Layer,
    MaxPool2D,
    ReLU,
    Sequential,
)
from gradstat.threads import USER_THREAD_VARIABLES

BATCH, SIDE = 64, 24  # 64 × 24 × 24 inputs: large enough to split in two
CONV_ARGS = ("in_channels", "out_channels", "kernel_size", "padding")


@pytest.fixture
def no_user_setting(monkeypatch):
    for name in USER_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


class Recorder(Layer):
    """Passes its input on, recording which thread saw how many rows, and BLAS's threads there."""

    splits_batch = True

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, int, int, int]] = []  # shared with its copies

    def forward(self, x):
        self.seen.append(("forward", threading.get_ident(), len(x), _blas_threads()))
        return x

    def backward(self, grad_output, *, input_grad=True):
        self.seen.append(("backward", threading.get_ident(), len(grad_output), _blas_threads()))
        return grad_output


def _blas_threads() -> int:
    return max(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")


def lenet_like(recorder: Layer, *, batchnorm: bool = False) -> Sequential:
    """Small convolutions (their products keep BLAS on one thread), in float64."""
    layers: list[Layer] = [Conv2D(1, 4, 3, padding=1, seed=0, dtype="float64")]
    layers += [BatchNorm2D(4, dtype="float64")] if batchnorm else []
    layers += [ReLU(), MaxPool2D(2), Conv2D(4, 6, 3, seed=1, dtype="float64"), recorder, ReLU(),
               MaxPool2D(2), Flatten(), Dense(150, 10, seed=2, dtype="float64")]  # fmt: skip
    return Sequential(layers)


def torch_twin(model: Sequential) -> torch.nn.Sequential:
    build = {
        Conv2D: lambda layer: torch.nn.Conv2d(**{k: layer.config()[k] for k in CONV_ARGS}),
        ReLU: lambda layer: torch.nn.ReLU(),
        MaxPool2D: lambda layer: torch.nn.MaxPool2d(2),
        Flatten: lambda layer: torch.nn.Flatten(),
        Dense: lambda layer: torch.nn.Linear(layer.in_features, layer.out_features),
        Recorder: lambda layer: torch.nn.Identity(),
    }
    net = torch.nn.Sequential(*(build[type(layer)](layer) for layer in model.layers)).double()
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    return net


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, 1, SIDE, SIDE)), rng.integers(0, 10, BATCH)


def train_twice_then_predict(model: Sequential) -> None:
    x, y = data()
    loss = CrossEntropy()
    with threadpool_limits(2, user_api="blas"):
        for _ in range(2):
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
        model.predict(x, batch_size=16)


def threads_of(seen, pass_name: str) -> dict[int, int]:
    """Rows seen per thread in one kind of pass."""
    rows: dict[int, int] = {}
    for name, ident, n, _ in seen:
        if name == pass_name:
            rows[ident] = rows.get(ident, 0) + n
    return rows


def test_a_split_training_step_gives_torchs_whole_batch_gradients(no_user_setting):
    recorder = Recorder()
    model, loss = lenet_like(recorder), CrossEntropy()
    x, y = data()
    with threadpool_limits(2, user_api="blas"):
        loss.forward(model.forward(x), y)  # a first pass, whole: it ends on one BLAS thread
        model.backward(loss.backward())
        recorder.seen.clear()
        out = model.forward(x)
        value = loss.forward(out, y)
        grad_x = model.backward(loss.backward())
        assert _blas_threads() == 2  # the caller's BLAS is as it was
    # the split happened: two threads took 32 rows each, forward and backward, on one BLAS thread
    assert sorted(threads_of(recorder.seen, "forward").values()) == [32, 32]
    assert threads_of(recorder.seen, "backward") == threads_of(recorder.seen, "forward")
    assert {blas for *_, blas in recorder.seen} == {1}

    net = torch_twin(model)
    xt = torch.from_numpy(x).requires_grad_(True)
    out_t = net(xt)
    loss_t = torch.nn.functional.cross_entropy(out_t, torch.from_numpy(y))
    loss_t.backward()
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert value == pytest.approx(loss_t.item(), rel=1e-12)
    assert xt.grad is not None
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
    torch_grads = {name: p.grad.numpy() for name, p in net.named_parameters() if p.grad is not None}
    assert set(model.grads) == set(torch_grads)
    for name, grad in model.grads.items():
        np.testing.assert_allclose(grad, torch_grads[name], rtol=1e-10, atol=1e-14, err_msg=name)


def test_predict_shares_the_batches_out_and_matches_torch(no_user_setting):
    recorder = Recorder()
    model = lenet_like(recorder)
    x, _ = data(1)
    with threadpool_limits(2, user_api="blas"):
        out = model.predict(x, batch_size=16)  # 4 batches: two for each of two threads
    assert sorted(threads_of(recorder.seen, "forward").values()) == [32, 32]
    assert [n for _, _, n, _ in recorder.seen] == [16, 16, 16, 16]
    with torch.no_grad():
        expected = torch_twin(model)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert model.training  # the mode is restored


@pytest.mark.parametrize("variable", ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"])
def test_a_thread_count_the_user_set_keeps_every_pass_on_the_callers_thread(
    monkeypatch, no_user_setting, variable
):
    monkeypatch.setenv(variable, "2")
    recorder = Recorder()
    train_twice_then_predict(lenet_like(recorder))
    assert {ident for _, ident, _, _ in recorder.seen} == {threading.get_ident()}


def test_batchnorm_in_training_is_never_split_but_is_in_evaluation(no_user_setting):
    recorder = Recorder()
    model, loss = lenet_like(recorder, batchnorm=True), CrossEntropy()
    x, y = data()
    with threadpool_limits(2, user_api="blas"):
        for _ in range(2):  # the batch's mean and variance need the whole batch
            loss.forward(model.forward(x), y)
            model.backward(loss.backward())
        assert {ident for _, ident, _, _ in recorder.seen} == {threading.get_ident()}
        recorder.seen.clear()
        model.predict(x, batch_size=16)  # running statistics: each sample alone
    assert len(threads_of(recorder.seen, "forward")) == 2


def test_a_layer_that_does_not_declare_itself_splittable_keeps_the_batch_whole(no_user_setting):
    class Unknown(Recorder):
        splits_batch = False  # a user's layer, which may keep state between calls

    recorder = Unknown()
    train_twice_then_predict(lenet_like(recorder))
    assert {ident for _, ident, _, _ in recorder.seen} == {threading.get_ident()}


def test_an_error_in_one_part_is_raised_after_every_part_has_ended(no_user_setting):
    class FailsOnAWorker(Recorder):
        def forward(self, x):
            super().forward(x)
            if threading.current_thread() is not threading.main_thread():
                raise ArithmeticError("boom in a part")
            return x

    recorder = FailsOnAWorker()
    model = lenet_like(recorder)
    x, _ = data()
    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(ArithmeticError, match="boom in a part"):
            model.predict(x, batch_size=16)
        assert _blas_threads() == 2  # restored
    assert len(threads_of(recorder.seen, "forward")) == 2
