"""Training CNNs: LeNet-5 end to end against PyTorch, the digits demo, the command line."""

from __future__ import annotations

import gzip
import math
import os
import pathlib
import re
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from gradstat.cli.demos.cnn import run_demo
from gradstat.cli.train_images import checkpoints
from gradstat.cli.train_images import main as train_images
from gradstat.nn import CrossEntropy, Sequential, load_checkpoint
from gradstat.nn.inspection.visualise import plot_feature_maps, plot_filters, plot_learning_curves
from gradstat.nn.models.architectures import ARCHITECTURES, build, lenet5, lenet_small


def torch_lenet5() -> torch.nn.Sequential:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120),
        torch.nn.ReLU(),
        torch.nn.Linear(120, 84),
        torch.nn.ReLU(),
        torch.nn.Linear(84, 10),
    ).double()


def test_summary_shows_lenet5_shapes_before_any_data_flows():
    model = lenet5(seed=0)
    frame = model.summary()
    net = torch_lenet5()
    h = torch.zeros(1, 1, 28, 28, dtype=torch.float64)
    for i, module in enumerate(net):
        h = module(h)
        assert frame["output_shape"][i] == str((None, *h.shape[1:]))
        assert frame["params"][i] == sum(p.numel() for p in module.parameters())
    assert frame.attrs["total_params"] == 61_706  # LeNet-5's well-known count


def test_lenet5_gradients_equal_pytorch():
    model = lenet5(seed=1).to(np.float64)
    net = torch_lenet5()
    with torch.no_grad():
        for name, value in model.params.items():
            net.get_parameter(name).copy_(torch.from_numpy(value))
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 1, 28, 28)), rng.integers(0, 10, 8)
    loss = CrossEntropy()
    value = loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    expected = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
    expected.backward()
    assert math.isclose(value, expected.item(), rel_tol=1e-12)
    for name, grad in model.grads.items():
        reference = net.get_parameter(name).grad.numpy()
        np.testing.assert_allclose(grad, reference, rtol=1e-9, atol=1e-12 * np.abs(reference).max())


def test_architectures_by_name_fit_their_images():
    assert build("lenet", (1, 8, 8), 10).layers[0].params["weight"].shape == (16, 1, 3, 3)
    assert build("lenet", (1, 28, 28), 10).layers[0].params["weight"].shape == (6, 1, 5, 5)
    assert build("lenet5", (3, 32, 32), 5).output_shape((None, 3, 32, 32)) == (None, 5)
    assert lenet_small((1, 12, 8), 4).output_shape((None, 1, 12, 8)) == (None, 4)
    assert set(ARCHITECTURES) >= {"lenet", "lenet5", "lenet-small"}
    with pytest.raises(ValueError, match="unknown architecture 'vgg'"):
        build("vgg", (1, 8, 8), 10)


def test_digits_demo_reaches_98_percent_and_saves_pictures(tmp_path, capsys):
    with threadpool_limits(1):  # small GEMMs: threads only add contention on a busy machine
        run_demo(tmp_path)
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy ([0-9.]+) on 359 held-out digits", out).group(1))
    assert accuracy >= 0.98
    for name in ("cnn_filters.png", "cnn_feature_maps.png", "cnn_learning_curves.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pictures_have_a_panel_per_filter_and_map():
    model = lenet5(seed=0)
    assert sum(len(ax.images) > 0 for ax in plot_filters(model).axes) == 6
    image = np.random.default_rng(0).random((1, 28, 28))
    assert sum(len(ax.images) > 0 for ax in plot_feature_maps(model, image).axes) == 7  # input + 6
    fig = plot_learning_curves({"loss": [2.0, 1.0], "val_loss": [2.1, 1.5], "accuracy": [0.5, 0.7]})
    assert [len(ax.lines) for ax in fig.axes] == [2, 1]
    with pytest.raises(ValueError, match="not Conv2D"):
        plot_filters(model, layer=1)


def write_idx_dataset(directory: pathlib.Path) -> None:
    """A tiny MNIST-format data set whose class shows as a bright row."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 96), ("t10k", 32)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        images[np.arange(n), 2 + 2 * labels] = 255
        for name, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            head = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            (directory / f"{split}-{name}.gz").write_bytes(gzip.compress(head + array.tobytes()))


def test_command_line_checkpoints_each_epoch_and_resumes_identically(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_idx_dataset(data)
    common = ["--arch", "lenet5", "--data", str(data), "--batch-size", "32", "--quiet"]
    assert train_images([*common, "--epochs", "2", "--checkpoint-dir", str(tmp_path / "a")]) == 0
    assert train_images([*common, "--epochs", "1", "--checkpoint-dir", str(tmp_path / "b")]) == 0
    assert train_images([*common, "--epochs", "2", "--checkpoint-dir", str(tmp_path / "b")]) == 2
    first = capsys.readouterr()
    assert "checkpoints up to epoch 1: pass --resume" in first.err
    assert "(None, 16, 5, 5)" in first.out  # the summary, printed before training
    assert train_images([*common, "--epochs", "2", "--checkpoint-dir", str(tmp_path / "b"), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resuming epoch-001.safetensors (epoch 1 of 2)" in out
    for run in ("a", "b"):
        names = sorted(p.name for p in (tmp_path / run).iterdir())
        assert names == ["epoch-001.safetensors", "epoch-002.safetensors", "learning_curves.png", "run.json"]
    straight = load_checkpoint(tmp_path / "a" / "epoch-002.safetensors")
    resumed = load_checkpoint(tmp_path / "b" / "epoch-002.safetensors")
    assert isinstance(resumed.model, Sequential) and resumed.epoch == 2
    for name, value in straight.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[name], value)
    assert resumed.history == straight.history


def test_command_line_names_missing_data_and_bad_options(tmp_path, capsys):
    assert train_images(["--data", str(tmp_path / "none"), "--checkpoint-dir", str(tmp_path)]) == 2
    assert "no data set directory" in capsys.readouterr().err
    for option, value, message in [
        ("--epochs", "0", "argument --epochs: must be a positive integer, got 0"),
        ("--limit", "0", "argument --limit: must be a positive integer, got 0"),
        ("--batch-size", "-3", "argument --batch-size: must be a positive integer, got -3"),
        ("--lr", "nan", "argument --lr: must be a finite number > 0, got nan"),
        ("--lr", "abc", "argument --lr: 'abc' is not a number"),
    ]:
        with pytest.raises(SystemExit):
            train_images([option, value, "--checkpoint-dir", str(tmp_path / "never")])
        assert message in capsys.readouterr().err
    assert not (tmp_path / "never").exists()  # refused before anything was made


def test_command_line_refuses_a_resume_with_other_options_and_a_second_trainer(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_idx_dataset(data)
    ck = tmp_path / "ck"
    common = [
        "--arch",
        "lenet5",
        "--data",
        str(data),
        "--quiet",
        "--limit",
        "32",
        "--checkpoint-dir",
        str(ck),
    ]
    assert train_images([*common, "--epochs", "1"]) == 0
    capsys.readouterr()
    for changed, message in [
        (["--lr", "0.01"], "--lr 0.01 differs from the run being resumed (--lr 0.002"),
        (["--arch", "lenet"], "--arch lenet differs from the run being resumed (--arch lenet5"),
        (["--batch-size", "8"], "--batch-size 8 differs"),
    ]:
        argv = [*common, "--epochs", "2", "--resume", *changed]
        assert train_images(argv) == 2
        assert message in capsys.readouterr().err
    assert sorted(checkpoints(ck)) == [1]  # nothing was trained
    # a second trainer while the first holds the directory
    (ck / ".gradstat.lock").write_text(f"{os.getpid()}\n")
    assert train_images([*common, "--epochs", "2", "--resume"]) == 2
    assert f"in use by another trainer (pid {os.getpid()}" in capsys.readouterr().err
    # a lock left by a trainer that died is stale: taken over, and the run resumes
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (ck / ".gradstat.lock").write_text(f"{dead.pid}\n")
    assert train_images([*common, "--epochs", "2", "--resume"]) == 0
    assert sorted(checkpoints(ck)) == [1, 2] and not (ck / ".gradstat.lock").exists()


def test_command_line_resumes_from_the_last_readable_checkpoint(tmp_path, capsys, caplog):
    data = tmp_path / "data"
    data.mkdir()
    write_idx_dataset(data)
    ck = tmp_path / "ck"
    common = [
        "--arch",
        "lenet5",
        "--data",
        str(data),
        "--quiet",
        "--limit",
        "32",
        "--checkpoint-dir",
        str(ck),
    ]
    assert train_images([*common, "--epochs", "2"]) == 0
    (ck / "epoch-002.safetensors").write_bytes(b"\x00" * 10)  # truncated by a crash
    capsys.readouterr()
    assert train_images([*common, "--epochs", "2", "--resume"]) == 0
    assert "skipping checkpoint" in caplog.text and "epoch-002.safetensors" in caplog.text
    assert "resuming epoch-001.safetensors (epoch 1 of 2)" in capsys.readouterr().out
    assert load_checkpoint(ck / "epoch-002.safetensors").epoch == 2

