"""Character model: truncated BPTT equals full BPTT per chunk, training, resume, sampling, CLI."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

from gradstat.cli.train_text import main
from gradstat.datasets.text import load_text
from gradstat.nn.models.charmodel import CharModel, Vocabulary

TEXT = load_text("shakespeare")[:6000]


def small(**kw):
    base = dict(
        arch="lstm", hidden_size=16, embedding_dim=8, seq_length=20, batch_size=8, lr=1e-2, epochs=2, seed=0
    )
    return CharModel(**{**base, **kw})


def test_vocabulary_round_trip_and_unknown_characters():
    vocab = Vocabulary("hello world")
    assert vocab.chars == " dehlorw"
    assert vocab.decode(vocab.encode("low")) == "low"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("lowz")
    with pytest.raises(ValueError, match="token ids"):
        vocab.decode([8])


def test_first_chunk_loss_equals_pytorch():
    """One training chunk: the same weights give PyTorch's cross-entropy (nats per char)."""
    model = small(epochs=0).fit(TEXT, verbose=0)
    emb, rec, out = model.network_.layers
    ids = model.vocabulary_.encode(TEXT[:21])
    lstm = torch.nn.LSTM(8, 16, batch_first=True)
    lstm.load_state_dict({k: torch.from_numpy(v) for k, v in rec.state_dict().items()})
    with torch.no_grad():
        e = torch.from_numpy(emb.params["weight"])[torch.from_numpy(ids[:-1])][None]
        logits = lstm(e)[0] @ torch.from_numpy(out.params["weight"]).T
        logits += torch.from_numpy(out.params["bias"])
        expected = torch.nn.functional.cross_entropy(logits[0], torch.from_numpy(ids[1:]))
    ours = model.network_.reset_state().forward(ids[None, :-1])
    z = ours[0] - ours[0].max(axis=1, keepdims=True)
    nll = -(z[np.arange(20), ids[1:]] - np.log(np.exp(z).sum(axis=1))).mean()
    assert nll == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_training_lowers_loss_and_perplexity_is_exp_loss(arch):
    model = small(arch=arch, epochs=3).fit(TEXT, verbose=0)
    hist = model.history_
    assert list(hist["epoch"]) == [1, 2, 3]
    assert hist["loss"].iloc[0] < math.log(len(model.vocabulary_)) + 0.2  # about uniform or better
    assert hist["loss"].iloc[-1] < hist["loss"].iloc[0] - 0.3
    np.testing.assert_allclose(hist["perplexity"], np.exp(hist["loss"]))


def test_resume_continues_bit_identically(tmp_path):
    straight = small(epochs=2).fit(TEXT, verbose=0)
    small(epochs=1).fit(TEXT, checkpoint_dir=tmp_path, verbose=0)
    resumed = small(epochs=2).fit(TEXT, checkpoint_dir=tmp_path, resume=True, verbose=0)
    np.testing.assert_allclose(resumed.history_["loss"], straight.history_["loss"], rtol=1e-6)
    for name, value in straight.network_.params.items():
        np.testing.assert_allclose(resumed.network_.params[name], value, rtol=1e-5, atol=1e-7)
    loaded = CharModel.load(tmp_path)
    assert loaded.epoch_ == 2 and loaded.vocabulary_.chars == straight.vocabulary_.chars


def test_sampling_temperature_and_reproducibility():
    model = small(epochs=2).fit(TEXT, verbose=0)
    a = model.sample(80, temperature=0.8, seed=3)
    assert len(a) == 80 and set(a) <= set(model.vocabulary_.chars)
    assert a == model.sample(80, temperature=0.8, seed=3)
    cold = model.sample(300, temperature=0.05, seed=1)
    hot = model.sample(300, temperature=5.0, seed=1)
    assert len(set(cold)) < len(set(hot))  # low temperature: few, likely characters
    with pytest.raises(ValueError, match="temperature"):
        model.sample(10, temperature=0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        model.sample(10, prime="~")


def test_bad_settings_and_exploding_loss_are_clear_errors():
    with pytest.raises(ValueError, match="arch"):
        small(arch="transformer").fit(TEXT, verbose=0)
    with pytest.raises(ValueError, match="too short"):
        small(batch_size=8).fit("abc", verbose=0)
    with pytest.raises(FileNotFoundError, match="resume"):
        small().fit(TEXT, checkpoint_dir="/nonexistent/dir", resume=True, verbose=0)


def test_command_line_trains_checkpoints_resumes_and_samples(tmp_path, capsys):
    common = [
        "--arch",
        "rnn",
        "--corpus",
        "shakespeare",
        "--checkpoint-dir",
        str(tmp_path),
        "--hidden",
        "16",
        "--max-chars",
        "3000",
        "--batch-size",
        "8",
        "--no-progress",
    ]
    assert main([*common, "--epochs", "1"]) == 0
    assert main([*common, "--epochs", "2", "--resume", "--sample", "50", "--temperature", "0.8"]) == 0
    out = capsys.readouterr().out
    assert "perplexity" in out and "50 sampled characters" in out
    assert (tmp_path / "charmodel.safetensors").exists()


def test_command_line_refuses_bad_options_and_a_changed_resume(tmp_path, capsys):
    for option, value in [
        ("--sample", "-3"),
        ("--max-chars", "0"),
        ("--hidden", "0"),
        ("--temperature", "0"),
    ]:
        with pytest.raises(SystemExit):
            main([option, value, "--checkpoint-dir", str(tmp_path / "never")])
        assert f"argument {option}: must be" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()
    common = ["--arch", "rnn", "--hidden", "8", "--max-chars", "2000", "--batch-size", "8", "--no-progress"]
    ck = ["--checkpoint-dir", str(tmp_path)]
    assert main([*common, *ck, "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main([*common, *ck, "--epochs", "2"]) == 1  # a second run over the first
    assert "already holds a model: pass --resume" in capsys.readouterr().err
    for changed, message in [
        (["--lr", "0.01"], "--lr 0.01 differs from the run being resumed (--lr 0.002"),
        (["--max-chars", "2500"], "--max-chars 2500 differs"),
        (["--seq-length", "20"], "--seq-length 20 differs"),
    ]:
        assert main([*common, *ck, "--epochs", "2", "--resume", *changed]) == 1
        assert message in capsys.readouterr().err
    (tmp_path / ".gradstat.lock").write_text(f"{os.getpid()}\n")
    assert main([*common, *ck, "--epochs", "2", "--resume"]) == 1
    assert "in use by another trainer" in capsys.readouterr().err
    assert CharModel.load(tmp_path).epoch_ == 1


def test_library_resume_refuses_changed_settings(tmp_path):
    small(epochs=1).fit(TEXT, checkpoint_dir=tmp_path, verbose=0)
    with pytest.raises(ValueError, match=r"trained with lr=0\.01, this model has lr=0\.02"):
        small(epochs=2, lr=0.02).fit(TEXT, checkpoint_dir=tmp_path, resume=True, verbose=0)
