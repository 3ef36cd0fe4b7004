"""One training iteration of a character model, gradstat vs PyTorch, as a ratio.

Forward over the sequence, softmax cross-entropy over all steps, BPTT, an SGD update:
one-hot vocabulary 65, hidden 128, sequence 50, batch 32, float32, CPU, same thread count.
Run ``python benchmarks/rnn.py`` (full) or ``--smoke`` (tiny, a few seconds).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.recurrent import LSTM, RNN
from gradstat.nn.losses import CrossEntropy


def best_of(steps: list[Callable[[], object]], repeats: int, number: int) -> list[float]:
    """Best time per call of each step, the steps interleaved so load spikes hit all alike."""
    best = [float("inf")] * len(steps)
    for step in steps:
        step()  # warm up
    for _ in range(repeats):
        for j, step in enumerate(steps):
            start = time.perf_counter()
            for _ in range(number):
                step()
            best[j] = min(best[j], (time.perf_counter() - start) / number)
    return best


def gradstat_step(arch: str, x: np.ndarray, y: np.ndarray, hidden: int) -> Callable[[], float]:
    vocab = x.shape[-1]
    rec = (RNN if arch == "rnn" else LSTM)(vocab, hidden, seed=0)
    out = Dense(hidden, vocab, seed=1)
    loss = CrossEntropy()
    layers = (rec, out)

    def step() -> float:
        value = loss(out.forward(rec.forward(x)), y)
        rec.backward(out.backward(loss.backward()), input_grad=False)
        for layer in layers:  # SGD: w ← w − η ∂E/∂w
            for name, p in layer.params.items():
                p -= 0.1 * layer.grads[name]
        return value

    return step


def torch_step(arch: str, x: np.ndarray, y: np.ndarray, hidden: int) -> Callable[[], float]:
    vocab = x.shape[-1]
    torch.manual_seed(0)
    rec = (torch.nn.RNN if arch == "rnn" else torch.nn.LSTM)(vocab, hidden, batch_first=True)
    out = torch.nn.Linear(hidden, vocab)
    params = [*rec.parameters(), *out.parameters()]
    opt = torch.optim.SGD(params, lr=0.1)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> float:
        opt.zero_grad()
        hs, _ = rec(xt)
        value = loss_fn(out(hs).reshape(-1, vocab), yt.reshape(-1))
        value.backward()
        opt.step()
        return value.item()

    return step


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--threads", type=int, help="BLAS/torch threads (default: NumPy's BLAS)")
    args = parser.parse_args(argv)
    vocab, hidden, steps, batch = (65, 16, 5, 4) if args.smoke else (65, 128, 50, 32)
    repeats, number = (2, 3) if args.smoke else (15, 3)
    blas = max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
    threads = args.threads or blas
    threadpool_limits(threads, user_api="blas")
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, vocab, size=(batch, steps + 1))
    x = np.eye(vocab, dtype=np.float32)[ids[:, :-1]]
    y = ids[:, 1:]
    print(f"vocab {vocab}, hidden {hidden}, seq {steps}, batch {batch}, float32, {threads} threads")
    for arch, target in (("rnn", 0.7), ("lstm", 1.8)):
        steps = [gradstat_step(arch, x, y, hidden), torch_step(arch, x, y, hidden)]
        ours, theirs = best_of(steps, repeats, number)
        print(
            f"{arch.upper():5s} gradstat {ours * 1e3:8.2f} ms  torch {theirs * 1e3:8.2f} ms  "
            f"ratio {ours / theirs:5.2f}x  (target ≤ {target}x)"
        )


if __name__ == "__main__":
    main()
