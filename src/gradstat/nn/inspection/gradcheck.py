"""Check hand-written gradients against central differences in float64.

∂E/∂θ ≈ (E(θ + ε) − E(θ − ε)) / 2ε for every parameter entry (and every input
entry), compared with what ``backward`` wrote into ``grads``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gradstat.nn.layers.base import Layer
from gradstat.nn.losses import HalfSquaredError, Loss

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class GradcheckResult:
    """Largest absolute and relative error per checked array; truthy when all pass."""

    errors: dict[str, tuple[float, float]]
    passed: bool
    rtol: float
    atol: float

    def __bool__(self) -> bool:
        return self.passed

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [(k, a, r) for k, (a, r) in self.errors.items()],
            columns=["array", "max_abs_error", "max_rel_error"],
        )

    def __repr__(self) -> str:
        worst = max((r for _, r in self.errors.values()), default=0.0)
        return f"GradcheckResult(passed={self.passed}, worst relative error={worst:.2e})"


def gradcheck(
    model_or_layer: Layer,
    x: np.ndarray,
    target: np.ndarray | None = None,
    loss: Loss | None = None,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    check_input: bool = True,
    max_entries: int = 200,
    seed: int = 0,
) -> GradcheckResult:
    """Compare ``backward`` with central differences on a float64 copy of the layer.

    The scalar checked is ``loss(out, target)`` (default ½Σ(target − out)²); with
    no target it is Σ r ⊙ out for a fixed random r, which checks the whole
    Jacobian. At most ``max_entries`` entries per array are probed (chosen at
    random with ``seed``). Layers that draw random numbers (Dropout) have their
    generators rewound before every evaluation, so each one sees the same mask.
    The model itself is left untouched.
    """
    if not isinstance(model_or_layer, Layer):
        raise TypeError(f"gradcheck needs a Layer or Sequential, got {type(model_or_layer).__name__}")
    layer = copy.deepcopy(model_or_layer).to(np.float64)
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws = layer.random_state()  # where each random layer's generator starts

    def evaluate() -> np.ndarray:
        layer.set_random_state(draws)  # the same dropout masks on every evaluation
        return layer.forward(x)

    out = evaluate()
    if target is None:
        weights = rng.standard_normal(out.shape)

        def objective(o: np.ndarray) -> tuple[float, np.ndarray]:
            return float(np.vdot(weights, o)), weights  # E = Σ r ⊙ out, ∂E/∂out = r

    else:
        crit = loss if loss is not None else HalfSquaredError(reduction="sum")
        tgt = np.asarray(target)
        tgt = tgt.astype(np.float64) if tgt.dtype.kind == "f" else tgt

        def objective(o: np.ndarray) -> tuple[float, np.ndarray]:
            return crit.forward(o, tgt), crit.backward()

    _, grad_out = objective(out)
    grad_in = layer.backward(grad_out)
    analytic = {name: np.array(g, dtype=np.float64) for name, g in layer.grads.items()}
    probes: dict[str, np.ndarray] = dict(layer.params)
    if check_input:
        probes["input"] = x
        analytic["input"] = np.asarray(grad_in, dtype=np.float64)
    missing = sorted(set(layer.params) - set(analytic))
    if missing:
        raise RuntimeError(f"backward() left no gradient for {missing}")

    errors: dict[str, tuple[float, float]] = {}
    passed = True
    for name, array in probes.items():
        flat = array.reshape(-1)
        if flat.size > max_entries:
            entries = rng.choice(flat.size, size=max_entries, replace=False)
        else:
            entries = np.arange(flat.size)
        numeric = np.empty(entries.size)
        for j, k in enumerate(entries):
            keep = flat[k]
            flat[k] = keep + eps
            up = objective(evaluate())[0]
            flat[k] = keep - eps
            down = objective(evaluate())[0]
            flat[k] = keep
            numeric[j] = (up - down) / (2 * eps)  # central difference
        got = analytic[name].reshape(-1)[entries]
        abs_err = np.abs(got - numeric)
        rel_err = abs_err / np.maximum(np.abs(numeric), atol)
        passed &= bool(np.all(abs_err <= atol + rtol * np.abs(numeric)))
        errors[name] = (float(abs_err.max(initial=0.0)), float(rel_err.max(initial=0.0)))
    return GradcheckResult(errors, passed, rtol, atol)
