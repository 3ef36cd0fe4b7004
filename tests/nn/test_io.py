"""save/load in safetensors, checkpoints that resume bit-identically."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from gradstat.nn import (
    SGD,
    Adam,
    Dense,
    Dropout,
    Layer,
    ModelCheckpoint,
    ReLU,
    Sequential,
    Sigmoid,
    load,
    load_checkpoint,
    save,
    save_checkpoint,
)


def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((96, 6)).astype(np.float32)
    return X, (X[:, 0] > X[:, 1]).astype(int)


def make():
    return Sequential([Dense(6, 8, seed=0), ReLU(), Dense(8, 2, seed=1), Sigmoid()], input_shape=(6,))


def test_roundtrip_weights_architecture_and_outputs(tmp_path):
    model = make()
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = load(path)
    assert isinstance(loaded, Sequential)
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "ReLU", "Dense", "Sigmoid"]
    for name, p in model.params.items():
        np.testing.assert_array_equal(loaded.params[name], p)
        assert loaded.params[name].dtype == p.dtype
    X, _ = data()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with safe_open(str(path), framework="numpy") as f:  # readable by any safetensors reader
        assert set(f.keys()) == {"0.weight", "0.bias", "2.weight", "2.bias"}  # PyTorch's keys
        arch = json.loads(f.metadata()["architecture"])
    assert arch["class"] == "gradstat.nn.layers.sequential.Sequential"
    assert arch["config"]["layers"][0]["config"]["in_features"] == 6


def test_single_layer_roundtrip(tmp_path):
    layer = Dense(3, 2, seed=4, dtype="float64")
    save(layer, tmp_path / "d.safetensors")
    loaded = load(tmp_path / "d.safetensors")
    assert isinstance(loaded, Dense) and loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.params["weight"], layer.params["weight"])


def test_save_is_atomic_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    make().save(path)
    before = path.read_bytes()

    def boom(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("gradstat.nn.io.os.fsync", boom)
    with pytest.raises(OSError, match=r"could not save .*m\.safetensors: No space left on device") as info:
        Sequential([Dense(6, 1)]).save(path)
    assert ".tmp" not in str(info.value)  # the user's file is named, not the temporary one
    assert path.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_loading_never_executes_code(tmp_path):
    path = tmp_path / "evil.safetensors"
    arch = {"class": "os.system", "config": {"command": "echo pwned"}}
    save_file(
        {}, str(path), metadata={"format": "gradstat.nn", "version": "1", "architecture": json.dumps(arch)}
    )
    with pytest.raises(ValueError, match=r"unknown layer class 'os\.system'"):
        load(path)
    save_file({"x": np.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match=r"not a gradstat\.nn file"):
        load(tmp_path / "other.safetensors")


def test_every_layer_class_can_be_rebuilt_by_name():
    class Scale(Layer):
        def __init__(self, factor: float = 2.0):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def backward(self, grad_output):
            return grad_output * self.factor

        def config(self):
            return {"factor": self.factor}

    model = Sequential([Dense(2, 2), Scale(3.0)])
    rebuilt = Sequential.from_config(json.loads(json.dumps(model.config())))
    assert isinstance(rebuilt.layers[1], Scale) and rebuilt.layers[1].factor == 3.0


@pytest.mark.parametrize("optimiser", [lambda m: SGD(m, lr=0.05, momentum=0.9), lambda m: Adam(m, lr=0.01)])
def test_resumed_training_is_bit_identical(tmp_path, optimiser):
    X, y = data()
    straight = make()
    straight.fit(X, y, epochs=4, batch_size=16, optimiser=optimiser(straight), rng=3, verbose=0)

    first = make()
    opt = optimiser(first)
    first.fit(X, y, epochs=2, batch_size=16, optimiser=opt, rng=3, verbose=0)
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, first, opt, first.rng_, epoch=2)
    ck = load_checkpoint(path)
    assert ck.epoch == 2 and type(ck.optimiser) is type(opt)
    ck.model.fit(
        X,
        y,
        epochs=4,
        batch_size=16,
        optimiser=ck.optimiser,
        rng=ck.rng,
        initial_epoch=ck.epoch,
        verbose=0,
    )
    for name, p in straight.params.items():
        np.testing.assert_array_equal(ck.model.params[name], p)
    assert ck.model.history_["loss"] == straight.history_["loss"]


def test_fit_writes_a_checkpoint_every_epoch(tmp_path):
    X, y = data()
    path = tmp_path / "run.safetensors"
    model = make()
    model.fit(X, y, epochs=2, batch_size=32, callbacks=[ModelCheckpoint(path)], verbose=0)
    ck = load_checkpoint(path)
    assert ck.epoch == 2 and len(ck.history["loss"]) == 2
    for name, p in model.params.items():
        np.testing.assert_array_equal(ck.model.params[name], p)


def test_resume_with_dropout_is_bit_identical(tmp_path):
    """Dropout's own generator travels in the checkpoint too."""
    X, y = data()

    def dropout_model():
        return Sequential(
            [
                Dense(X.shape[1], 16, seed=0, dtype="float64"),
                ReLU(),
                Dropout(0.3, seed=5),
                Dense(16, 2, seed=1, dtype="float64"),
            ],
            input_shape=(X.shape[1],),
        )

    straight = dropout_model()
    straight.fit(X, y, epochs=3, batch_size=16, optimiser=SGD(straight, lr=0.1), rng=3, verbose=0)
    first = dropout_model()
    opt = SGD(first, lr=0.1)
    first.fit(X, y, epochs=1, batch_size=16, optimiser=opt, rng=3, verbose=0)
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, first, opt, first.rng_, epoch=1)
    ck = load_checkpoint(path)
    ck.model.fit(
        X, y, epochs=3, batch_size=16, optimiser=ck.optimiser, rng=ck.rng, initial_epoch=1, verbose=0
    )
    for name, p in straight.params.items():
        np.testing.assert_array_equal(ck.model.params[name], p)
