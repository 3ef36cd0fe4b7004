"""The one training loop: a whole run equal to PyTorch's, validation_split, callbacks, verbose."""

from __future__ import annotations

import csv
import json
import logging

import numpy as np
import pytest
import torch

from gradstat.nn import (
    MSE,
    SGD,
    Adam,
    AdamW,
    Callback,
    CrossEntropy,
    CSVLogger,
    Dense,
    EarlyStopping,
    JSONLogger,
    LearningRateScheduler,
    ReduceLROnPlateau,
    Sequential,
    StepLR,
    Tanh,
    Trainer,
)


def pair():
    model = Sequential([Dense(4, 8, seed=0, dtype="float64"), Tanh(), Dense(8, 3, seed=1, dtype="float64")])
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(model.params[name]))
    return model, net


def data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)


@pytest.mark.parametrize(
    ("ours", "theirs", "schedule", "torch_schedule"),
    [
        (
            lambda m: SGD(m, lr=0.2, momentum=0.9, weight_decay=0.01, nesterov=True),
            lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9, weight_decay=0.01, nesterov=True),
            StepLR(2, gamma=0.5),
            lambda o: torch.optim.lr_scheduler.StepLR(o, 2, gamma=0.5),
        ),
        (
            lambda m: AdamW(m, lr=0.05, weight_decay=0.1),
            lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1),
            ReduceLROnPlateau(patience=0, factor=0.5, threshold=0.2),
            lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5, threshold=0.2),
        ),
    ],
)
def test_a_whole_run_equals_a_pytorch_training_loop(ours, theirs, schedule, torch_schedule):
    """Mini-batches, loss, optimiser with weight decay and a schedule over 6 epochs: the
    validation losses and final weights equal a plain PyTorch loop's (float64)."""
    X, y = data(70)
    model, net = pair()
    history = Trainer(
        model,
        loss=CrossEntropy(),
        optimiser=ours(model),
        callbacks=[LearningRateScheduler(schedule, monitor="val_loss")],
    ).fit(X, y, epochs=6, batch_size=16, shuffle=False, validation_split=0.2)
    topt = theirs(net.parameters())
    sched = torch_schedule(topt)
    Xt, yt = torch.from_numpy(X[:56]), torch.from_numpy(y[:56])  # Keras' split: the last 20 % held out
    Xv, yv = torch.from_numpy(X[56:]), torch.from_numpy(y[56:])
    val, rates = [], []
    for _ in range(6):
        rates.append(topt.param_groups[0]["lr"])
        for start in range(0, 56, 16):
            topt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt[start : start + 16]), yt[start : start + 16]).backward()
            topt.step()
        with torch.no_grad():
            val.append(torch.nn.functional.cross_entropy(net(Xv), yv).item())
        sched.step(val[-1]) if isinstance(schedule, ReduceLROnPlateau) else sched.step()
    assert history["lr"] == rates and len(set(rates)) > 1
    np.testing.assert_allclose(history["val_loss"], val, rtol=1e-12)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(model.params[name], p.detach().numpy(), rtol=1e-10, atol=1e-13)


def test_validation_split_is_the_last_rows_before_shuffling():
    X, y = data(50)
    split = Sequential([Dense(4, 3, seed=0, dtype="float64")])
    split.fit(X, y, epochs=3, batch_size=8, validation_split=0.3, rng=2, verbose=0)
    given = Sequential([Dense(4, 3, seed=0, dtype="float64")])
    given.fit(X[:35], y[:35], epochs=3, batch_size=8, validation_data=(X[35:], y[35:]), rng=2, verbose=0)
    assert split.history_ == given.history_
    with pytest.raises(ValueError, match="validation_split must lie in"):
        split.fit(X, y, validation_split=1.0, verbose=0)
    with pytest.raises(ValueError, match="not both"):
        split.fit(X, y, validation_split=0.2, validation_data=(X, y), verbose=0)
    with pytest.raises(ValueError, match="leaves no training samples"):
        split.fit(X[:1], y[:1], validation_split=0.5, verbose=0)


def test_bad_validation_and_training_data_are_named():
    X, y = data(20)
    model = Sequential([Dense(4, 1, seed=0, dtype="float64")])
    yv = np.ones((5, 1))
    yv[2] = np.nan
    with pytest.raises(ValueError, match="validation y contains 1 NaN"):
        model.fit(X, y[:, None] * 1.0, loss=MSE(), validation_data=(X[:5], yv), verbose=0)
    with pytest.raises(ValueError, match="validation y: CrossEntropy: label 9"):
        Sequential([Dense(4, 3)]).fit(X, y, validation_data=(X[:2], np.array([0, 9])), verbose=0)
    with pytest.raises(ValueError, match="validation X has 5 samples but validation y has 4"):
        model.fit(X, y * 1.0, validation_data=(X[:5], yv[:4]), verbose=0)
    with pytest.raises(ValueError, match="no training data: X has 0 rows"):
        model.fit(np.zeros((0, 4)), np.zeros((0, 1)), verbose=0)
    with pytest.raises(ValueError, match="verbose must be"):
        model.fit(X, y * 1.0, verbose=3)


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs):
        self.calls.append(("train_begin", logs["epochs"]))

    def on_epoch_begin(self, epoch, logs):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs):
        self.calls.append(("batch", batch, logs["size"]))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch, sorted(logs)))
        if epoch == 1:
            self.trainer.stop_training = True

    def on_train_end(self, logs):
        self.calls.append(("train_end", len(logs["loss"])))


def test_user_callbacks_see_the_hooks_in_order_and_can_stop():
    X, y = data(10)
    rec = Recorder()
    model = Sequential([Dense(4, 3, seed=0)])
    model.fit(X, y, epochs=5, batch_size=4, callbacks=[rec], verbose=0)
    epoch = [("epoch_begin", 0), ("batch", 0, 4), ("batch", 1, 4), ("batch", 2, 2)]
    assert rec.calls == [
        ("train_begin", 5),
        *epoch,
        ("epoch_end", 0, ["accuracy", "loss"]),
        ("epoch_begin", 1),
        *epoch[1:],
        ("epoch_end", 1, ["accuracy", "loss"]),
        ("train_end", 2),
    ]
    with pytest.raises(TypeError, match="Callback instances"):
        model.fit(X, y, callbacks=[print], verbose=0)


def test_early_stopping_patience_counts_like_keras():
    """The validation loss sequence is fixed by a callback; patience p stops p epochs after the best."""
    X, y = data(10)

    class Fixed(Callback):
        def on_epoch_end(self, epoch, logs):
            logs["score"] = [5.0, 4.0, 4.5, 3.9999, 4.2, 4.1, 1.0][epoch]

    # Keras: stop once `patience` epochs in a row fail to beat the best by more than min_delta
    for patience, min_delta, stopped in [(0, 0.0, 2), (1, 0.0, 2), (2, 0.0, 5), (2, 0.01, 3), (3, 0.0, None)]:
        stop = EarlyStopping("score", patience=patience, min_delta=min_delta)
        model = Sequential([Dense(4, 3, seed=0)])
        model.fit(X, y, epochs=7, callbacks=[Fixed(), stop], verbose=0)
        assert stop.stopped_epoch == stopped
        assert len(model.history_["loss"]) == (7 if stopped is None else stopped + 1)
    with pytest.raises(
        ValueError, match=r"monitors 'val_loss', but the epoch logged only \['accuracy', 'loss'\]"
    ):
        Sequential([Dense(4, 3)]).fit(X, y, callbacks=[EarlyStopping()], verbose=0)


def test_loggers_write_one_record_per_epoch(tmp_path):
    X, y = data(20)
    model = Sequential([Dense(4, 3, seed=0)])
    model.fit(
        X,
        y,
        epochs=3,
        validation_split=0.25,
        callbacks=[CSVLogger(tmp_path / "log.csv"), JSONLogger(tmp_path / "log.jsonl")],
        verbose=0,
    )
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3] == [r["epoch"] for r in lines]
    assert (
        [float(r["val_loss"]) for r in rows] == model.history_["val_loss"] == [r["val_loss"] for r in lines]
    )


def test_verbose_2_logs_one_line_per_epoch_and_prints_nothing(caplog, capsys):
    X, y = data(12)
    with caplog.at_level(logging.INFO, logger="gradstat.nn.training"):
        Sequential([Dense(4, 3, seed=0)]).fit(X, y, epochs=3, optimiser=None, verbose=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "gradstat.nn.training"]
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3: loss ")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    model = Sequential([Dense(4, 3, seed=0)])
    with pytest.raises(ValueError, match="bound to another model"):
        Trainer(model, loss=CrossEntropy(), optimiser=Adam(Sequential([Dense(4, 3)])))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_truncated_bptt_equals_pytorch_with_detached_state(cell):
    """carry_state=True: each chunk starts from the state the previous chunk ended with and the
    gradient stops there — PyTorch's loop with ``h.detach()`` between chunks (float64, SGD)."""
    from gradstat.nn import LSTM, RNN

    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 12, 3))
    y = rng.standard_normal((4, 12, 2))
    rec = (RNN if cell == "rnn" else LSTM)(3, 5, dtype="float64", seed=0)
    model = Sequential([rec, Dense(5, 2, seed=1, dtype="float64")])
    net = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(3, 5, batch_first=True).double()
    head = torch.nn.Linear(5, 2).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(rec.params[name]))
        head.weight.copy_(torch.from_numpy(model.params["1.weight"]))
        head.bias.copy_(torch.from_numpy(model.params["1.bias"]))

    def chunks(epoch):
        return [(x[:, s : s + 4], y[:, s : s + 4]) for s in range(0, 12, 4)]

    history = Trainer(model, loss=MSE(), optimiser=SGD(model, lr=0.3), carry_state=True).fit_batches(
        chunks, epochs=2
    )
    topt = torch.optim.SGD([*net.parameters(), *head.parameters()], lr=0.3)
    losses = []
    for _ in range(2):
        state, total = None, 0.0
        for s in range(0, 12, 4):
            out, state = net(torch.from_numpy(x[:, s : s + 4]), state)
            loss = torch.nn.functional.mse_loss(head(out), torch.from_numpy(y[:, s : s + 4]))
            topt.zero_grad()
            loss.backward()
            topt.step()
            state = tuple(h.detach() for h in state) if cell == "lstm" else state.detach()
            total += loss.item()
        losses.append(total / 3)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-12)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(rec.params[name], p.detach().numpy(), rtol=1e-10)


def test_a_resumed_run_with_stateful_callbacks_equals_the_straight_run(tmp_path):
    """Plateau-schedule and early-stopping counters travel beside the checkpoint: 3 + 7 epochs
    give the straight 10 epochs' weights, rates and history bit for bit."""
    from gradstat.nn import ModelCheckpoint, load_checkpoint, restore_callbacks

    X, y = data(64)
    scores = [5.0, 4.0, 4.5, 4.4, 4.6, 3.0, 3.1, 3.2, 3.3, 2.0]

    class Score(Callback):
        def on_epoch_end(self, epoch, logs):
            logs["score"] = scores[epoch]

    def callbacks():
        return [
            Score(),
            LearningRateScheduler(ReduceLROnPlateau(patience=1, factor=0.5, cooldown=1), monitor="score"),
            EarlyStopping("score", patience=4),
            ModelCheckpoint(tmp_path / "epoch-{epoch}.safetensors"),
        ]

    def run(model, optimiser, rng, cbs, epochs, initial_epoch=0):
        model.fit(X, y, epochs=epochs, batch_size=16, validation_split=0.25, optimiser=optimiser, rng=rng,
                  callbacks=cbs, initial_epoch=initial_epoch, verbose=0)  # fmt: skip

    def model():
        return Sequential(
            [Dense(4, 8, seed=0, dtype="float64"), Tanh(), Dense(8, 3, seed=1, dtype="float64")]
        )

    straight = model()
    run(straight, Adam(straight, lr=0.05), 4, callbacks(), 10)
    assert straight.history_["lr"] == [0.05] * 4 + [0.025] * 4 + [0.0125] * 2  # cuts after epochs 4 and 8
    first = model()
    run(first, Adam(first, lr=0.05), 4, callbacks(), 3)
    ck = load_checkpoint(tmp_path / "epoch-3.safetensors")
    resumed = callbacks()
    restore_callbacks(tmp_path / "epoch-3.safetensors", resumed)
    run(ck.model, ck.optimiser, ck.rng, resumed, 10, initial_epoch=3)
    assert ck.model.history_ == straight.history_
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(ck.model.state_dict()[name], value)
    with pytest.raises(ValueError, match="holds the states of"):
        restore_callbacks(tmp_path / "epoch-3.safetensors", [EarlyStopping()])


def test_a_resumed_run_ends_with_the_best_weights_from_before_the_resume(tmp_path, caplog):
    """On noise the validation loss is best at epoch 0 and worsens after; a run cut after epoch
    4 and resumed gets the epoch-0 weights back from beside the checkpoint, so it stops at the
    same epoch and ends with the uninterrupted run's weights, bit for bit. A corrupt, foreign or
    missing best-weights file is an error naming it, never a silent fallback to other weights."""
    from gradstat.nn import ModelCheckpoint, ModelFileError, load, load_checkpoint, restore_callbacks
    from gradstat.nn.io import write_tensors

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    Xv, yv = rng.standard_normal((48, 4)), rng.integers(0, 3, 48)

    def model():
        return Sequential(
            [Dense(4, 8, seed=0, dtype="float64"), Tanh(), Dense(8, 3, seed=1, dtype="float64")]
        )

    def callbacks(folder):
        folder.mkdir(exist_ok=True)
        return [EarlyStopping(patience=6), ModelCheckpoint(folder / "epoch-{epoch}.safetensors")]

    def run(model, optimiser, rng, cbs, epochs, initial_epoch=0):
        model.fit(X, y, epochs=epochs, batch_size=8, validation_data=(Xv, yv), optimiser=optimiser,
                  rng=rng, callbacks=cbs, initial_epoch=initial_epoch, verbose=0)  # fmt: skip

    straight, whole = model(), callbacks(tmp_path / "straight")
    run(straight, Adam(straight, lr=0.1), 3, whole, 10)
    assert (whole[0].best_epoch, whole[0].stopped_epoch) == (0, 6)  # the best epoch is before the cut
    last = load(tmp_path / "straight" / "epoch-7.safetensors").state_dict()
    assert not np.array_equal(last["0.weight"], straight.state_dict()["0.weight"])  # restoring matters

    first = model()
    run(first, Adam(first, lr=0.1), 3, callbacks(tmp_path / "split"), 4)
    checkpoint_path = tmp_path / "split" / "epoch-4.safetensors"
    ck = load_checkpoint(checkpoint_path)
    resumed = callbacks(tmp_path / "split")
    restore_callbacks(checkpoint_path, resumed)
    with caplog.at_level(logging.WARNING, logger="gradstat.nn.training"):
        run(ck.model, ck.optimiser, ck.rng, resumed, 10, initial_epoch=4)
    assert not caplog.records
    assert (resumed[0].best_epoch, resumed[0].stopped_epoch) == (0, 6)
    assert ck.model.history_ == straight.history_
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(ck.model.state_dict()[name], value)

    arrays = tmp_path / "split" / "epoch-4.safetensors.callbacks.safetensors"
    data = bytearray(arrays.read_bytes())
    data[-1] ^= 1  # one flipped bit in the last weight
    arrays.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"epoch-4\.safetensors\.callbacks\.safetensors is corrupt"):
        restore_callbacks(checkpoint_path, callbacks(tmp_path / "split"))
    write_tensors(arrays, {"0/0.weight": np.zeros((8, 4))})  # valid, but not the states' arrays
    with pytest.raises(ModelFileError, match=r"callbacks\.safetensors does not belong to .*epoch-4"):
        restore_callbacks(checkpoint_path, callbacks(tmp_path / "split"))
    arrays.unlink()
    with pytest.raises(FileNotFoundError, match=r"epoch-4\.safetensors\.callbacks\.safetensors"):
        restore_callbacks(checkpoint_path, callbacks(tmp_path / "split"))
