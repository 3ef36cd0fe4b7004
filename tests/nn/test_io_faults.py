"""Files that survive: atomic saves, the user's umask, checksums, and clear errors for bad files.

Every bad file must give a ``ModelFileError`` (a ``ValueError``) whose message names the file —
never a raw KeyError, JSON or safetensors traceback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

import gradstat.nn as gnn
from gradstat.nn import Dense, Layer, ModelFileError, ReLU, Sequential, layer_class


def model():
    return Sequential([Dense(4, 3, seed=0), ReLU(), Dense(3, 2, seed=1)], input_shape=(4,))


def saved(tmp_path, name="m.safetensors"):
    path = tmp_path / name
    gnn.save(model(), path)
    return path


def rewrite_metadata(path, **changes):
    """Rewrite ``path`` with some metadata entries replaced (None deletes); tensors unchanged."""
    with safe_open(str(path), framework="numpy") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    save_file(tensors, str(path), metadata=meta)


# --- writing ------------------------------------------------------------------------------------
def test_a_save_killed_midway_leaves_a_temporary_that_the_next_save_clears(tmp_path):
    path = tmp_path / "m.safetensors"
    script = textwrap.dedent(
        f"""
        import os
        import gradstat.nn as gnn
        import gradstat.nn.io as io
        io.os.replace = lambda *a: os._exit(9)  # killed between writing and renaming
        gnn.save(gnn.Dense(2, 2), {str(path)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": "src"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, check=False)
    assert done.returncode == 9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".m.safetensors.") and left[0].endswith(".tmp")
    gnn.save(model(), path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert isinstance(gnn.load(path), Sequential)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_files_keep_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = saved(tmp_path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


def test_save_errors_name_the_users_file(tmp_path):
    target = tmp_path / "missing" / "m.safetensors"
    with pytest.raises(FileNotFoundError, match=r"could not save .*missing/m\.safetensors") as info:
        gnn.save(model(), target)
    assert ".tmp" not in str(info.value)
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match=r"cannot save to .*folder: it is a directory"):
        gnn.save(model(), tmp_path / "folder")


# --- reading ------------------------------------------------------------------------------------
def test_a_flipped_bit_is_an_error_naming_the_file(tmp_path):
    path = saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # inside the last tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.safetensors is corrupt: the checksum"):
        gnn.load(path)


@pytest.mark.parametrize("keep", [0, 5, 8, 40, -7])
def test_truncated_files(tmp_path, keep):
    path = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    with pytest.raises(ModelFileError, match=r"m\.safetensors is (empty or truncated|truncated)"):
        gnn.load(path)


def test_foreign_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a model\n" * 3)
    with pytest.raises(ModelFileError, match=r"notes\.txt is (truncated or )?not a safetensors file"):
        gnn.load(text)
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(ModelFileError, match=r"image\.png"):
        gnn.load(png)
    plain = tmp_path / "plain.safetensors"
    save_file({"x": np.zeros(2)}, str(plain))
    with pytest.raises(ModelFileError, match=r"plain\.safetensors is not a gradstat\.nn file"):
        gnn.load(plain)


def test_a_directory_instead_of_a_file(tmp_path):
    with pytest.raises(ModelFileError, match=r"is a directory, not a model file"):
        gnn.load(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no model file .*absent\.safetensors"):
        gnn.load(tmp_path / "absent.safetensors")


def test_a_tiny_file_declaring_a_huge_tensor_is_refused_before_allocating(tmp_path):
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [2**23, 2**22], "data_offsets": [0, 2**47]}}  # 128 TiB
    ).encode()
    path = tmp_path / "huge.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(16))
    with pytest.raises(ModelFileError, match=r"huge\.safetensors is truncated or corrupt: tensor 'w'"):
        gnn.read_state_dict(path)
    lying = tmp_path / "lying.safetensors"  # the header length itself points past the end
    lying.write_bytes((2**40).to_bytes(8, "little") + b"{}")
    with pytest.raises(ModelFileError, match=r"lying\.safetensors is truncated"):
        gnn.load(lying)


def test_an_architecture_declaring_a_huge_layer_is_a_clear_error(tmp_path):
    path = saved(tmp_path)
    arch = {
        "class": "gradstat.nn.layers.dense.Dense",
        "config": {"in_features": 2**24, "out_features": 2**23},  # 256 TiB of weights
    }
    rewrite_metadata(path, architecture=json.dumps(arch))
    with pytest.raises(ModelFileError, match=r"m\.safetensors"):
        gnn.load(path)


def test_a_large_declared_layer_is_refused_before_any_layer_is_built(tmp_path, monkeypatch):
    """Dense(100000, 100000) declared beside a (3, 4) weight would allocate 80 GB at float64
    before load_state_dict saw the mismatch; the declared shapes are checked against the
    header first, and no layer constructor runs."""
    path = saved(tmp_path)
    wrong = Sequential([Dense(4, 3), ReLU(), Dense(3, 2)]).config()
    wrong["layers"][0]["config"].update(in_features=100_000, out_features=100_000, dtype="float64")
    rewrite_metadata(
        path, architecture=json.dumps({"class": "gradstat.nn.layers.sequential.Sequential", "config": wrong})
    )
    built = []

    def refuse(self, *args, **kwargs):  # a constructor that ran would have allocated the layer
        built.append(type(self).__name__)
        raise AssertionError(f"{type(self).__name__} was built before the shapes were checked")

    for cls in (Dense, ReLU, Sequential):
        monkeypatch.setattr(cls, "__init__", refuse)
    with pytest.raises(
        ModelFileError,
        match=r"m\.safetensors: the architecture declares tensor '0\.weight' of shape \(100000, 100000\), "
        r"the file holds shape \(3, 4\)",
    ):
        gnn.load(path)
    assert built == []


def every_layer():
    """One gradstat layer of each registered class (with the options that change its tensors)."""
    return [
        Dense(4, 3), Dense(4, 3, bias=False), gnn.Conv1D(2, 3, 5), gnn.Conv2D(2, 3, (3, 2)),
        gnn.Conv2D(1, 2, 3), gnn.BatchNorm1D(3), gnn.BatchNorm2D(3, affine=False),
        gnn.BatchNorm1D(2, track_running_stats=False), gnn.LayerNorm((2, 3)),
        gnn.LayerNorm(4, bias=False), gnn.LayerNorm(4, elementwise_affine=False), gnn.Embedding(7, 3),
        gnn.RNN(3, 4), gnn.LSTM(3, 4), gnn.GRU(3, 4), gnn.Stacked("lstm", 3, 4, num_layers=3),
        gnn.Stacked("gru", 2, 5), ReLU(), gnn.GELU(), gnn.LeakyReLU(), gnn.Sigmoid(), gnn.Softmax(),
        gnn.Tanh(), gnn.Dropout(0.5), gnn.AvgPool2D(2), gnn.MaxPool1D(2), gnn.MaxPool2D(2), gnn.Flatten(),
    ]  # fmt: skip


def test_the_declared_shapes_are_the_shapes_each_layer_builds():
    """The shapes read from a config (without building) are those of the built layer's
    state_dict, for every gradstat layer class, so a valid file is never refused."""
    from gradstat.nn.architecture import declared_shapes
    from gradstat.nn.layers.base import layer_classes, qualified_name

    layers = every_layer()
    net = Sequential(layers)
    spec = {"class": qualified_name(Sequential), "config": net.config()}
    assert declared_shapes(spec) == {key: value.shape for key, value in net.state_dict().items()}
    covered = {type(layer) for layer in layers} | {Sequential}
    concrete = {
        cls
        for name, cls in layer_classes().items()
        if name.startswith("gradstat.") and not cls.__name__.startswith("_")
        and cls not in (gnn.Container, gnn.Layer) and cls.__name__ != "Recurrent"
    }  # fmt: skip
    assert concrete <= covered, f"add to every_layer() and to gradstat.nn.architecture: {concrete - covered}"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"architecture": "{not json"}, r"'architecture' is not valid JSON"),
        ({"architecture": None}, r"no 'architecture' entry"),
        ({"architecture": json.dumps({"class": "gradstat.nn.layers.dense.Dense"})}, r"cannot be rebuilt"),
        (
            {"architecture": json.dumps({"class": "Dense", "config": {"in_features": 4, "colour": 1}})},
            r"cannot be rebuilt.*colour",
        ),
        (
            {"architecture": json.dumps({"class": "os.system", "config": {}})},
            r"unknown layer class 'os\.system'",
        ),
        ({"architecture": json.dumps(["a", "list"])}, r"'architecture' must be a JSON object"),
        ({"version": "99"}, r"unsupported gradstat\.nn file version '99'"),
        ({"checksum": "sha256:00"}, r"is corrupt: the checksum"),
        ({"history": "[1, 2"}, r"'history' is not valid JSON"),
        ({"epoch": "three"}, r"cannot be rebuilt"),
        ({"rng": json.dumps({"bit_generator": "Evil"})}, r"unknown bit generator 'Evil'"),
        ({"optimiser": json.dumps({"class": "Evil"})}, r"unknown optimiser 'Evil'"),
        (
            {"optimiser": json.dumps({"class": "SGD", "hyperparameters": {"lr": -1}, "steps": 0})},
            r"lr must be",
        ),
        ({"layer_rngs": json.dumps({"7": {}})}, r"cannot be rebuilt"),
    ],
)
def test_crafted_metadata_gives_clear_errors_naming_the_file(tmp_path, changes, message):
    path = saved(tmp_path)
    rewrite_metadata(path, **changes)
    with pytest.raises(ModelFileError, match=r"m\.safetensors") as info:
        gnn.load_checkpoint(path)
    assert info.match(message)


def test_missing_tensors_are_named(tmp_path):
    path = saved(tmp_path)
    bigger = Sequential([Dense(4, 3), ReLU(), Dense(3, 2), Dense(2, 2)])  # one layer more than the file holds
    arch = {"class": "gradstat.nn.layers.sequential.Sequential", "config": bigger.config()}
    rewrite_metadata(path, architecture=json.dumps(arch))
    with pytest.raises(ModelFileError, match=r"m\.safetensors.*missing keys \['3\.weight', '3\.bias'\]"):
        gnn.load(path)


def test_optimiser_state_of_the_wrong_shape_is_named(tmp_path):
    net = model()
    opt = gnn.Adam(net)
    net.backward(np.ones_like(net.forward(np.ones((2, 4), np.float32))))
    opt.step()
    path = tmp_path / "ck.safetensors"
    gnn.save_checkpoint(path, net, opt, None, epoch=1)
    with safe_open(str(path), framework="numpy") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    tensors["optimiser/m/0.weight"] = tensors["optimiser/m/0.weight"][:1]  # crafted: one row
    # the checksum is over the tensors, so make it consistent to reach the shape check
    digest = _sha256_of_tensors(tensors)
    save_file(tensors, str(path), metadata={**meta, "checksum": digest})
    with pytest.raises(
        ModelFileError, match=r"ck\.safetensors: optimiser state 'm/0\.weight' has shape \(1, 4\)"
    ):
        gnn.load_checkpoint(path)


def _sha256_of_tensors(tensors):
    """The checksum the file format documents: SHA-256 over key, shape and bytes, in key order."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        array = np.ascontiguousarray(tensors[key])
        digest.update(f"{key}|{list(array.shape)}|".encode())
        digest.update(array.tobytes())
    return "sha256:" + digest.hexdigest()


# --- resuming -----------------------------------------------------------------------------------
def test_a_corrupt_last_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog):
    rng = np.random.default_rng(0)
    net = model()
    opt = gnn.SGD(net, lr=0.1)
    path = tmp_path / "ck.safetensors"
    gnn.save_checkpoint(path, net, opt, rng, epoch=1)
    first = {k: v.copy() for k, v in net.params.items()}
    net.layers[0].params["weight"] += 1.0
    gnn.save_checkpoint(path, net, opt, rng, epoch=2)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="gradstat.nn.io"):
        ck, used = gnn.resume_checkpoint(path)
    assert ck.epoch == 1 and used.name == "ck.safetensors.prev"
    for name, value in first.items():
        np.testing.assert_array_equal(ck.model.params[name], value)
    assert "ck.safetensors is corrupt" in caplog.text and "last good checkpoint" in caplog.text


def test_resume_over_epoch_files_skips_a_corrupt_newest(tmp_path, caplog):
    net, rng = model(), np.random.default_rng(0)
    opt = gnn.Adam(net)
    paths = [tmp_path / f"epoch-{e:03d}.safetensors" for e in (1, 2)]
    for epoch, path in enumerate(paths, start=1):
        gnn.save_checkpoint(path, net, opt, rng, epoch=epoch)
    paths[1].write_bytes(paths[1].read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="gradstat.nn.io"):
        ck, used = gnn.resume_checkpoint(paths[1], paths[0])
    assert ck.epoch == 1 and used == paths[0]
    assert "epoch-002.safetensors" in caplog.text
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        gnn.resume_checkpoint(tmp_path / "none.safetensors")
    paths[0].write_bytes(b"")
    with pytest.raises(ModelFileError, match="no checkpoint could be loaded"):
        gnn.resume_checkpoint(paths[1], paths[0])


# --- old files and the registry -----------------------------------------------------------------
def test_version_1_files_still_load(tmp_path):
    """The first format: tensors under "param/…", bare class names, a lone LSTM's "weight_ih"."""
    lstm = gnn.LSTM(2, 3, seed=0, dtype="float64")
    dense = Dense(3, 1, seed=1, dtype="float64")
    tensors = {f"param/0.{k.removesuffix('_l0')}": v for k, v in lstm.params.items()}
    tensors |= {f"param/1.{k}": v for k, v in dense.params.items()}
    arch = {
        "class": "Sequential",
        "config": {
            "layers": [
                {"class": "LSTM", "config": lstm.config()},
                {"class": "Dense", "config": dense.config()},
            ],
            "input_shape": None,
        },
    }
    path = tmp_path / "old.safetensors"
    save_file(
        tensors,
        str(path),
        metadata={"format": "gradstat.nn", "version": "1", "architecture": json.dumps(arch)},
    )
    loaded = gnn.load(path)
    x = np.random.default_rng(2).standard_normal((2, 4, 2))
    np.testing.assert_array_equal(loaded.forward(x), dense.forward(lstm.forward(x)))


def test_a_users_class_called_dense_does_not_replace_ours(tmp_path):
    class Dense(Layer):  # the same bare name as ours: the point of the test
        def forward(self, x):
            return x

        def backward(self, grad_output, *, input_grad=True):
            return grad_output

    assert layer_class("gradstat.nn.layers.dense.Dense") is gnn.Dense
    assert layer_class("Dense") is gnn.Dense  # a bare name in an old file means ours
    assert layer_class(f"{__name__}.{Dense.__qualname__}") is Dense
    net = Sequential([gnn.Dense(2, 2), Dense()])
    gnn.save(net, tmp_path / "mixed.safetensors")
    loaded = gnn.load(tmp_path / "mixed.safetensors")
    assert type(loaded.layers[0]) is gnn.Dense and type(loaded.layers[1]) is Dense
