"""One training epoch of a 784-256-128-10 ReLU MLP: gradstat vs PyTorch vs scikit-learn.

Softmax cross-entropy, SGD with momentum 0.9, batch 128, float32, 20,000
samples; PyTorch runs on the CPU with as many threads as NumPy's BLAS. Prints
best-of-repeats times and the ratios gradstat/PyTorch and gradstat/scikit-learn.

    python benchmarks/mlp.py            # full size
    python benchmarks/mlp.py --smoke    # tiny, a few seconds
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info

from gradstat.nn import SGD, CrossEntropy, Dense, ReLU, Sequential

LR, MOMENTUM, BATCH = 0.01, 0.9, 128


def best_of(repeats: int, fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best time of each function; repeats interleave them so load changes hit all alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    n, sizes, repeats = (20_000, (784, 256, 128, 10), 5)
    if args.smoke:
        n, sizes, repeats = (512, (64, 32, 16, 10), 2)
    repeats = args.repeats or repeats
    threads = max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)
    torch.set_num_threads(threads)

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=n)

    def gradstat_epoch() -> None:
        layers = []
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            layers += [Dense(a, b, init="he_uniform", seed=i), ReLU()]
        model = Sequential(layers[:-1])
        opt = SGD(model, lr=LR, momentum=MOMENTUM)
        model.fit(X, y, epochs=1, batch_size=BATCH, loss=CrossEntropy(), optimiser=opt, rng=0, verbose=0)

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def torch_epoch() -> None:
        torch.manual_seed(0)
        layers: list[torch.nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        loss_fn = torch.nn.CrossEntropyLoss()
        order = torch.randperm(n)
        for start in range(0, n, BATCH):
            idx = order[start : start + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    def sklearn_epoch() -> None:
        clf = MLPClassifier(
            hidden_layer_sizes=sizes[1:-1],
            solver="sgd",
            learning_rate_init=LR,
            momentum=MOMENTUM,
            nesterovs_momentum=False,
            batch_size=BATCH,
            max_iter=1,
            shuffle=True,
            random_state=0,
            alpha=0.0,
            tol=0.0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)

    fns = {"gradstat": gradstat_epoch, "pytorch": torch_epoch, "sklearn": sklearn_epoch}
    best_of(1, fns)  # warm up (numba compiles the optimiser loops once)
    best = best_of(repeats, fns)
    t_g, t_t, t_s = best["gradstat"], best["pytorch"], best["sklearn"]
    ratios = {"gradstat/pytorch": t_g / t_t, "gradstat/sklearn": t_g / t_s}
    print(
        f"MLP {'-'.join(map(str, sizes))}, {n} samples, batch {BATCH}, float32, "
        f"{threads} BLAS thread(s), best of {repeats}"
    )
    print(f"  gradstat      {t_g:8.3f} s")
    print(f"  pytorch       {t_t:8.3f} s")
    print(f"  scikit-learn  {t_s:8.3f} s")
    for name, value in ratios.items():
        print(f"  {name:17s} {value:6.2f}")
    return ratios


if __name__ == "__main__":
    main()
