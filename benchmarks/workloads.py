"""What the benchmarks time: each workload is the same work written for gradstat and for a peer.

A side's factory builds its model and data for a size (``"full"`` or ``"smoke"``) and returns
``(step, check)``: ``step()`` does one unit of work (an epoch, an iteration, a fit) and
``check`` is a number both sides must agree on before any timing (the loss of the first
batch from the same initial weights, or a fitted coefficient), so a ratio compares the same
computation. Initial weights come from NumPy's generator in the same order on both sides,
and the data from a fixed seed, so neither process needs the other framework.

Workloads against PyTorch (and scikit-learn's MLP) are timed by ``harness.py`` with each
side alone in its own process; the ones against statsmodels and scikit-learn's linear
models, where both sides use NumPy's BLAS, are timed in one process.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Step = Callable[[], object]
Factory = Callable[[str], tuple[Step, float]]


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    peer: str  # the side the ratio divides by
    target: float  # gradstat / peer at most
    per_process: bool  # each side alone in a fresh process (peers with their own thread pools)
    sides: dict[str, Factory] = field(default_factory=dict)
    check_rtol: float | None = 1e-5  # how closely the sides' checks agree (None: not comparable)


WORKLOADS: dict[str, Workload] = {}


def workload(
    name: str, title: str, peer: str, target: float, per_process: bool, check_rtol: float | None = 1e-5
) -> Callable[..., Any]:
    """Register the decorated ``sides()`` function's factories under ``name``."""

    def register(sides: Callable[[], dict[str, Factory]]) -> Callable[[], dict[str, Factory]]:
        WORKLOADS[name] = Workload(name, title, peer, target, per_process, sides(), check_rtol)
        return sides

    return register


# --- shared pieces -----------------------------------------------------------------------------
def uniform_weights(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """PyTorch's default initialisation, U(-1/√fan_in, 1/√fan_in), drawn with NumPy."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def copy_into(params: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> None:
    """Copy ``values`` into gradstat's live parameter arrays; a lone recurrent layer may name
    its parameters with or without PyTorch's ``_l0`` suffix."""
    for name, value in values.items():
        key = name if name in params else name.removesuffix("_l0")
        params[key][...] = value


def torch_load(module: Any, values: dict[str, np.ndarray]) -> None:
    import torch

    module.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in values.items()})


# --- MLP: one epoch of 784-256-128-10 ------------------------------------------------------------
MLP_LR, MLP_MOMENTUM, MLP_BATCH = 0.01, 0.9, 128


def mlp_problem(size: str) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], dict[str, np.ndarray]]:
    n, sizes = (20_000, (784, 256, 128, 10)) if size == "full" else (512, (64, 32, 16, 10))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], size=n)
    weights: dict[str, np.ndarray] = {}
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        weights[f"{2 * i}.weight"] = uniform_weights(rng, (b, a), a)
        weights[f"{2 * i}.bias"] = uniform_weights(rng, (b,), a)
    return X, y, sizes, weights


def epoch_order(n: int) -> np.ndarray:
    return np.random.default_rng(1).permutation(n)


@workload("mlp_epoch", "MLP 784-256-128-10, one epoch (SGD, momentum)", "pytorch", 0.8, True)
def mlp_sides() -> dict[str, Factory]:
    def gradstat(size: str) -> tuple[Step, float]:
        from gradstat.nn import SGD, CrossEntropy, Dense, ReLU, Sequential

        X, y, sizes, weights = mlp_problem(size)
        layers: list[Any] = []
        for a, b in itertools.pairwise(sizes):
            layers += [Dense(a, b), ReLU()]
        model = Sequential(layers[:-1])
        copy_into(model.params, weights)
        loss, opt = CrossEntropy(), SGD(model, lr=MLP_LR, momentum=MLP_MOMENTUM)
        order = epoch_order(len(X))
        check = float(loss.forward(model.forward(X[order[:MLP_BATCH]]), y[order[:MLP_BATCH]]))

        def step() -> None:
            for start in range(0, len(X), MLP_BATCH):
                idx = order[start : start + MLP_BATCH]
                loss.forward(model.forward(X[idx]), y[idx])
                model.backward(loss.backward(), input_grad=False)
                opt.step()

        return step, check

    def pytorch(size: str) -> tuple[Step, float]:
        import torch

        X, y, sizes, weights = mlp_problem(size)
        layers: list[torch.nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        torch_load(model, weights)
        opt = torch.optim.SGD(model.parameters(), lr=MLP_LR, momentum=MLP_MOMENTUM)
        loss_fn = torch.nn.CrossEntropyLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        order = torch.from_numpy(epoch_order(len(X)))
        with torch.no_grad():
            check = float(loss_fn(model(Xt[order[:MLP_BATCH]]), yt[order[:MLP_BATCH]]))

        def step() -> None:
            for start in range(0, len(Xt), MLP_BATCH):
                idx = order[start : start + MLP_BATCH]
                opt.zero_grad()
                loss_fn(model(Xt[idx]), yt[idx]).backward()
                opt.step()

        return step, check

    def sklearn(size: str) -> tuple[Step, float]:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        X, y, sizes, _ = mlp_problem(size)
        clf = MLPClassifier(
            hidden_layer_sizes=sizes[1:-1], solver="sgd", learning_rate_init=MLP_LR, momentum=MLP_MOMENTUM,
            nesterovs_momentum=False, batch_size=MLP_BATCH, max_iter=1, shuffle=True, random_state=0,
            alpha=0.0, tol=0.0,
        )  # fmt: skip

        def step() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)

        return step, float("nan")  # scikit-learn draws its own initial weights

    return {"gradstat": gradstat, "pytorch": pytorch, "sklearn": sklearn}


# --- CNNs: LeNet-5 and a small VGG ------------------------------------------------------------------
CNN_BATCH, CNN_LR, CNN_MOMENTUM = 64, 0.01, 0.9

# (kind, arguments): "conv" (in, out, kernel, padding), "pool" (size), "dense" (in, out)
LENET5 = [("conv", (1, 6, 5, 2)), ("relu", ()), ("pool", (2,)), ("conv", (6, 16, 5, 0)), ("relu", ()),
          ("pool", (2,)), ("flatten", ()), ("dense", (400, 120)), ("relu", ()), ("dense", (120, 84)),
          ("relu", ()), ("dense", (84, 10))]  # fmt: skip
VGG_SMALL = [("conv", (3, 32, 3, 1)), ("relu", ()), ("conv", (32, 32, 3, 1)), ("relu", ()), ("pool", (2,)),
             ("conv", (32, 64, 3, 1)), ("relu", ()), ("pool", (2,)), ("flatten", ()),
             ("dense", (64 * 8 * 8, 10))]  # fmt: skip


def cnn_problem(spec: list[tuple[str, tuple[int, ...]]], size: str) -> tuple[np.ndarray, np.ndarray, dict]:
    full = 2048 if spec is LENET5 else 512
    n = full if size == "full" else 2 * CNN_BATCH
    shape = (1, 28, 28) if spec is LENET5 else (3, 32, 32)
    rng = np.random.default_rng(0)
    X = rng.random((n, *shape), dtype=np.float32)
    y = rng.integers(0, 10, n)
    weights: dict[str, np.ndarray] = {}
    for i, (kind, args) in enumerate(spec):
        if kind == "conv":
            c_in, c_out, k, _ = args
            weights[f"{i}.weight"] = uniform_weights(rng, (c_out, c_in, k, k), c_in * k * k)
            weights[f"{i}.bias"] = uniform_weights(rng, (c_out,), c_in * k * k)
        elif kind == "dense":
            a, b = args
            weights[f"{i}.weight"] = uniform_weights(rng, (b, a), a)
            weights[f"{i}.bias"] = uniform_weights(rng, (b,), a)
    return X, y, weights


def gradstat_cnn(spec: list[tuple[str, tuple[int, ...]]], size: str) -> tuple[Any, np.ndarray, np.ndarray]:
    from gradstat.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential

    build = {
        "conv": lambda a: Conv2D(a[0], a[1], a[2], padding=a[3]),
        "relu": lambda a: ReLU(),
        "pool": lambda a: MaxPool2D(a[0]),
        "flatten": lambda a: Flatten(),
        "dense": lambda a: Dense(a[0], a[1]),
    }
    X, y, weights = cnn_problem(spec, size)
    model = Sequential([build[kind](args) for kind, args in spec])
    copy_into(model.params, weights)
    return model, X, y


def torch_cnn(spec: list[tuple[str, tuple[int, ...]]], size: str) -> tuple[Any, np.ndarray, np.ndarray]:
    import torch

    build = {
        "conv": lambda a: torch.nn.Conv2d(a[0], a[1], a[2], padding=a[3]),
        "relu": lambda a: torch.nn.ReLU(),
        "pool": lambda a: torch.nn.MaxPool2d(a[0]),
        "flatten": lambda a: torch.nn.Flatten(),
        "dense": lambda a: torch.nn.Linear(a[0], a[1]),
    }
    X, y, weights = cnn_problem(spec, size)
    net = torch.nn.Sequential(*(build[kind](args) for kind, args in spec))
    torch_load(net, weights)
    return net, X, y


def cnn_training(spec: list[tuple[str, tuple[int, ...]]]) -> dict[str, Factory]:
    def gradstat(size: str) -> tuple[Step, float]:
        from gradstat.nn import SGD, CrossEntropy

        model, X, y = gradstat_cnn(spec, size)
        loss, opt = CrossEntropy(), SGD(model, lr=CNN_LR, momentum=CNN_MOMENTUM)
        check = float(loss.forward(model.forward(X[:CNN_BATCH]), y[:CNN_BATCH]))

        def step() -> None:
            for i in range(0, len(X), CNN_BATCH):
                loss.forward(model.forward(X[i : i + CNN_BATCH]), y[i : i + CNN_BATCH])
                model.backward(loss.backward(), input_grad=False)
                opt.step()

        return step, check

    def pytorch(size: str) -> tuple[Step, float]:
        import torch

        net, X, y = torch_cnn(spec, size)
        loss_fn = torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(net.parameters(), lr=CNN_LR, momentum=CNN_MOMENTUM)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        with torch.no_grad():
            check = float(loss_fn(net(Xt[:CNN_BATCH]), yt[:CNN_BATCH]))

        def step() -> None:
            for i in range(0, len(Xt), CNN_BATCH):
                opt.zero_grad()
                loss_fn(net(Xt[i : i + CNN_BATCH]), yt[i : i + CNN_BATCH]).backward()
                opt.step()

        return step, check

    return {"gradstat": gradstat, "pytorch": pytorch}


def cnn_inference(spec: list[tuple[str, tuple[int, ...]]]) -> dict[str, Factory]:
    """Each framework's own way to score a data set in batches of 64: gradstat's ``predict``
    (which shares the batches out among the cores), PyTorch's forward per batch under
    ``no_grad`` (which spreads each operation over the cores)."""

    def gradstat(size: str) -> tuple[Step, float]:
        model, X, _ = gradstat_cnn(spec, size)

        def step() -> None:
            model.predict(X, batch_size=CNN_BATCH)

        return step, float(model.predict(X[:CNN_BATCH]).sum())

    def pytorch(size: str) -> tuple[Step, float]:
        import torch

        net, X, _ = torch_cnn(spec, size)
        Xt = torch.from_numpy(X)

        def step() -> None:
            with torch.no_grad():
                for i in range(0, len(Xt), CNN_BATCH):
                    net(Xt[i : i + CNN_BATCH])

        with torch.no_grad():
            check = float(net(Xt[:CNN_BATCH]).sum())
        return step, check

    return {"gradstat": gradstat, "pytorch": pytorch}


workload("lenet_train", "LeNet-5 on 1×28×28, training on 2,048 images (batch 64)", "pytorch", 1.3, True)(
    lambda: cnn_training(LENET5)
)
workload("lenet_infer", "LeNet-5 on 1×28×28, inference on 2,048 images (batch 64)", "pytorch", 1.3, True)(
    lambda: cnn_inference(LENET5)
)
VGG_TITLE = "VGG-style, three 3×3 convs (32, 32, 64) + FC on 3×32×32, training on 512 images"
workload("vgg_train", VGG_TITLE, "pytorch", 1.5, True)(lambda: cnn_training(VGG_SMALL))


# --- character models: one iteration of forward, BPTT and an SGD step ------------------------------
CHAR_LR = 0.1


def char_problem(size: str) -> tuple[np.ndarray, np.ndarray, int]:
    vocab, hidden, steps, batch = (65, 128, 50, 32) if size == "full" else (65, 16, 5, 4)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, vocab, size=(batch, steps + 1))
    return np.eye(vocab, dtype=np.float32)[ids[:, :-1]], ids[:, 1:], hidden


def recurrent_weights(cell: str, vocab: int, hidden: int, layers: int) -> dict[str, np.ndarray]:
    """torch.nn.{RNN,LSTM,GRU}(vocab, hidden, num_layers) state_dict, then the output Linear."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    rng = np.random.default_rng(2)
    weights = {}
    for k in range(layers):
        size_in = vocab if k == 0 else hidden
        weights[f"weight_ih_l{k}"] = uniform_weights(rng, (gates * hidden, size_in), hidden)
        weights[f"weight_hh_l{k}"] = uniform_weights(rng, (gates * hidden, hidden), hidden)
        weights[f"bias_ih_l{k}"] = uniform_weights(rng, (gates * hidden,), hidden)
        weights[f"bias_hh_l{k}"] = uniform_weights(rng, (gates * hidden,), hidden)
    weights["out.weight"] = uniform_weights(rng, (vocab, hidden), hidden)
    weights["out.bias"] = uniform_weights(rng, (vocab,), hidden)
    return weights


def char_model(cell: str, layers: int) -> dict[str, Factory]:
    def gradstat(size: str) -> tuple[Step, float]:
        import gradstat.nn as gnn

        x, y, hidden = char_problem(size)
        vocab = x.shape[-1]
        weights = recurrent_weights(cell, vocab, hidden, layers)
        cls = getattr(gnn, cell.upper())
        rec = cls(vocab, hidden) if layers == 1 else gnn.Stacked(cell, vocab, hidden, num_layers=layers)
        out = gnn.Dense(hidden, vocab)
        copy_into(rec.params, {k: v for k, v in weights.items() if not k.startswith("out.")})
        copy_into(out.params, {k.removeprefix("out."): v for k, v in weights.items() if k.startswith("out.")})
        loss = gnn.CrossEntropy()
        layers_ = (rec, out)
        check = float(loss.forward(out.forward(rec.forward(x)), y))

        def step() -> None:
            loss.forward(out.forward(rec.forward(x)), y)
            rec.backward(out.backward(loss.backward()), input_grad=False)
            for layer in layers_:  # SGD: w ← w − η ∂E/∂w
                for name, p in layer.params.items():
                    p -= CHAR_LR * layer.grads[name]

        return step, check

    def pytorch(size: str) -> tuple[Step, float]:
        import torch

        x, y, hidden = char_problem(size)
        vocab = x.shape[-1]
        weights = recurrent_weights(cell, vocab, hidden, layers)
        cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        rec = cls(vocab, hidden, num_layers=layers, batch_first=True)
        out = torch.nn.Linear(hidden, vocab)
        torch_load(rec, {k: v for k, v in weights.items() if not k.startswith("out.")})
        torch_load(out, {k.removeprefix("out."): v for k, v in weights.items() if k.startswith("out.")})
        opt = torch.optim.SGD([*rec.parameters(), *out.parameters()], lr=CHAR_LR)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()

        def forward() -> Any:
            return loss_fn(out(rec(xt)[0]).reshape(-1, vocab), yt.reshape(-1))

        with torch.no_grad():
            check = float(forward())

        def step() -> None:
            opt.zero_grad()
            forward().backward()
            opt.step()

        return step, check

    return {"gradstat": gradstat, "pytorch": pytorch}


CHAR_TITLE = "character model (vocab 65, hidden 128, T = 50, batch 32), one iteration"
workload("char_rnn", f"RNN {CHAR_TITLE}", "pytorch", 0.6, True)(lambda: char_model("rnn", 1))
workload("char_lstm", f"LSTM {CHAR_TITLE}", "pytorch", 1.5, True)(lambda: char_model("lstm", 1))
workload("char_lstm2", f"2-layer stacked LSTM {CHAR_TITLE}", "pytorch", 1.5, True)(
    lambda: char_model("lstm", 2)
)
workload("char_gru", f"GRU {CHAR_TITLE}", "pytorch", 1.5, True)(lambda: char_model("gru", 1))


# --- linear models and regularisation: peers on the same NumPy, one process ----------------------
def dense_ols_problem(size: str) -> tuple[np.ndarray, np.ndarray]:
    n, p = (1_000_000, 50) if size == "full" else (2_000, 5)
    rng = np.random.default_rng(0)
    X = np.empty((n, p))
    X[:, 0] = 1.0
    X[:, 1:] = rng.standard_normal((n, p - 1))
    return X, X @ rng.standard_normal(p) + rng.standard_normal(n)


@workload("ols_dense", "OLS n = 1e6, p = 50: fit + summary", "statsmodels", 0.3, False, 1e-10)
def ols_dense_sides() -> dict[str, Factory]:
    def gradstat(size: str) -> tuple[Step, float]:
        import gradstat as gs

        X, y = dense_ols_problem(size)
        fit = gs.OLS(fit_intercept=False).fit(X, y)
        return (lambda: str(gs.OLS(fit_intercept=False).fit(X, y).results_.summary())), float(fit.coef_[1])

    def statsmodels(size: str) -> tuple[Step, float]:
        import statsmodels.api as sm

        X, y = dense_ols_problem(size)
        return (lambda: str(sm.OLS(y, X).fit().summary())), float(sm.OLS(y, X).fit().params[1])

    return {"gradstat": gradstat, "statsmodels": statsmodels}


def factor_frame(size: str) -> Any:
    import pandas as pd

    n = 100_000 if size == "full" else 500
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x1": rng.standard_normal(n), "x2": rng.standard_normal(n),
                          "g": rng.choice(list("abcde"), size=n)})  # fmt: skip
    level_effect = frame["g"].map(dict(zip("abcde", range(5), strict=True)))
    frame["y"] = 1.0 + 2.0 * frame["x1"] - frame["x2"] + level_effect + rng.standard_normal(n)
    return frame


@workload("ols_factor", "OLS formula n = 1e5 with a 5-level factor: fit + by-term ANOVA", "statsmodels",
          0.5, False, 1e-10)  # fmt: skip
def ols_factor_sides() -> dict[str, Factory]:
    formula = "y ~ C(g) + x1 + x2"

    def gradstat(size: str) -> tuple[Step, float]:
        import gradstat as gs

        frame = factor_frame(size)
        check = float(gs.ols(formula, frame).anova(by_term=True).iloc[0, -2])
        return (lambda: gs.ols(formula, frame).anova(by_term=True)), check

    def statsmodels(size: str) -> tuple[Step, float]:
        import statsmodels.api as sm
        import statsmodels.formula.api as smf

        frame = factor_frame(size)
        check = float(sm.stats.anova_lm(smf.ols(formula, frame).fit(), typ=1).iloc[0, -2])
        return (lambda: sm.stats.anova_lm(smf.ols(formula, frame).fit(), typ=1)), check

    return {"gradstat": gradstat, "statsmodels": statsmodels}


def gaussian_problem(size: str, case: str) -> tuple[np.ndarray, np.ndarray]:
    """Dense Gaussian design with 10 true non-zero coefficients and unit noise."""
    n, p = {("full", "a"): (10_000, 200), ("full", "b"): (1_000, 5_000)}.get((size, case), (400, 20))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    k = min(10, p)
    beta[:k] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 3.0, k)
    return X, X @ beta + rng.standard_normal(n)


LASSO_TOL, N_ALPHAS, EPS = 1e-4, 100, 1e-3


def regularisation_sides(kind: str, case: str) -> dict[str, Factory]:
    def gradstat(size: str) -> tuple[Step, float]:
        import gradstat.regularisation as gr

        X, y = gaussian_problem(size, case)
        run: Step = {
            "path": lambda: gr.lasso_path(X, y, n_alphas=N_ALPHAS, eps=EPS, tol=LASSO_TOL),
            "lassocv": lambda: gr.LassoCV(cv=5, n_alphas=N_ALPHAS, eps=EPS, tol=LASSO_TOL).fit(X, y),
            "ridgecv": lambda: gr.RidgeCV(alphas=np.logspace(-3, 3, 100)).fit(X, y),
        }[kind]
        return run, summary_number(run())

    def sklearn(size: str) -> tuple[Step, float]:
        import sklearn.linear_model as sk

        X, y = gaussian_problem(size, case)
        run: Step = {
            "path": lambda: sk.lasso_path(X, y, alphas=N_ALPHAS, eps=EPS, tol=LASSO_TOL),
            "lassocv": lambda: sk.LassoCV(cv=5, alphas=N_ALPHAS, eps=EPS, tol=LASSO_TOL).fit(X, y),
            "ridgecv": lambda: sk.RidgeCV(alphas=np.logspace(-3, 3, 100)).fit(X, y),
        }[kind]
        return run, summary_number(run())

    return {"gradstat": gradstat, "sklearn": sklearn}


def summary_number(result: Any) -> float:
    """The number both sides must agree on: the chosen alpha, or the path's last coefficients' sum."""
    if isinstance(result, tuple):
        return float(np.sum(result[1][:, -1]))
    return float(result.alpha_)


for _case, _shape in (("a", "n = 1e4, p = 200"), ("b", "n = 1e3, p = 5e3")):
    workload(f"lasso_path_{_case}", f"lasso_path, 100 alphas, {_shape}", "sklearn", 0.5, False, 1e-3)(
        lambda c=_case: regularisation_sides("path", c)
    )
    workload(f"lassocv_{_case}", f"LassoCV(cv=5), {_shape}", "sklearn", 0.5, False, None)(
        lambda c=_case: regularisation_sides("lassocv", c)
    )
workload("ridgecv_a", "RidgeCV, 100 alphas, n = 1e4, p = 200", "sklearn", 0.2, False, 1e-8)(
    lambda: regularisation_sides("ridgecv", "a")
)


@workload("lasso_kernel", "coordinate-descent kernel, numba vs interpreted: n = 200, p = 20, 10 alphas",
          "interpreted", 0.05, False, 1e-12)  # fmt: skip
def numba_pays() -> dict[str, Factory]:
    """Does numba pay? The same coordinate-descent kernel, compiled versus run by the interpreter."""

    def kernel(compiled: bool) -> Factory:
        def build(size: str) -> tuple[Step, float]:
            from gradstat.regularisation.coordinate_descent import enet_path_gram

            fn = enet_path_gram if compiled else enet_path_gram.py_func
            rng = np.random.default_rng(1)
            X = rng.standard_normal((200, 20))
            y = X[:, :5] @ np.ones(5) + rng.standard_normal(200)
            G, Xy, yy = X.T @ X, X.T @ y, float(y @ y)
            l1s = 200 * np.logspace(np.log10(np.max(np.abs(Xy)) / 200), -1, 10)
            coefs = np.empty((20, 10))

            def run() -> None:
                fn(G, Xy, yy, l1s, np.zeros(10), LASSO_TOL * yy, LASSO_TOL, 1000, np.zeros(20), coefs,
                   np.empty(10), np.zeros(10, dtype=np.int64))  # fmt: skip

            run()
            return run, float(coefs[:, -1].sum())

        return build

    return {"gradstat": kernel(True), "interpreted": kernel(False)}
