"""LeNet-5 on 1×28×28 images: one training epoch and one inference pass, gradstat vs PyTorch.

conv 5×5×6 pad 2, ReLU, pool 2, conv 5×5×16, ReLU, pool 2, FC 400-120-84-10, softmax
cross-entropy, SGD with momentum, batch 64, float32, both on the CPU with the same
number of threads and the same initial weights. Prints best-of-``--repeats`` times
and the ratios gradstat / PyTorch (target: training ≤ 1.6×).

    python benchmarks/cnn.py [--smoke] [--samples N] [--repeats R] [--threads T]

``--threads`` defaults to NumPy's BLAS thread count. On a machine whose cores are
busy with other work, use ``--threads 1``: many small GEMMs suffer most from
oversubscribed BLAS threads, which measures the machine rather than the code.
The first layer's ∂E/∂x is skipped (``backward(..., input_grad=False)``), as
``Sequential.fit`` does.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from gradstat.nn import SGD, CrossEntropy, Sequential
from gradstat.nn.models.architectures import lenet5

BATCH = 64


def torch_lenet(model: Sequential) -> torch.nn.Sequential:
    """The same network in PyTorch, with gradstat's initial weights copied in."""
    net = torch.nn.Sequential(
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
    )
    with torch.no_grad():
        for name, value in model.params.items():
            net.get_parameter(name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return net


def epoch_gradstat(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    loss, opt = CrossEntropy(), SGD(model, lr=0.01, momentum=0.9)
    start = time.perf_counter()
    for i in range(0, len(x), BATCH):
        out = model.forward(x[i : i + BATCH])
        loss.forward(out, y[i : i + BATCH])
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    return time.perf_counter() - start


def epoch_torch(net: torch.nn.Sequential, x: np.ndarray, y: np.ndarray) -> float:
    loss = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    start = time.perf_counter()
    for i in range(0, len(x), BATCH):
        opt.zero_grad()
        loss(net(xt[i : i + BATCH]), yt[i : i + BATCH]).backward()
        opt.step()
    return time.perf_counter() - start


def infer_gradstat(model: Sequential, x: np.ndarray) -> float:
    model.eval()
    start = time.perf_counter()
    for i in range(0, len(x), BATCH):
        model.forward(x[i : i + BATCH])
    model.train()
    return time.perf_counter() - start


def infer_torch(net: torch.nn.Sequential, x: np.ndarray) -> float:
    xt = torch.from_numpy(x)
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), BATCH):
            net(xt[i : i + BATCH])
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="for both (default: NumPy's BLAS threads)")
    args = parser.parse_args(argv)
    samples, repeats = (256, 1) if args.smoke else (args.samples, args.repeats)
    blas = max((d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"), default=1)
    threads = args.threads or blas
    torch.set_num_threads(threads)
    with threadpool_limits(threads, user_api="blas"):
        return _run(samples, repeats, threads)


def _run(samples: int, repeats: int, threads: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.random((samples, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    model = lenet5(seed=0)
    net = torch_lenet(model)
    results: dict[str, list[float]] = {"train": [], "train_torch": [], "infer": [], "infer_torch": []}
    for _ in range(repeats):  # interleaved, so load from other processes hits both alike
        results["train"].append(epoch_gradstat(model, x, y))
        results["train_torch"].append(epoch_torch(net, x, y))
        results["infer"].append(infer_gradstat(model, x))
        results["infer_torch"].append(infer_torch(net, x))
    best = {name: min(times) for name, times in results.items()}
    ratios = {
        "train_ratio": best["train"] / best["train_torch"],
        "infer_ratio": best["infer"] / best["infer_torch"],
    }
    print(f"LeNet-5, {samples} samples of 1x28x28, batch {BATCH}, float32, {threads} thread(s)")
    for kind in ("train", "infer"):
        print(
            f"{kind:>6}: gradstat {best[kind]:.3f} s, PyTorch {best[kind + '_torch']:.3f} s, "
            f"ratio {ratios[kind + '_ratio']:.2f}x"
        )
    return {**best, **ratios}


if __name__ == "__main__":
    main()
