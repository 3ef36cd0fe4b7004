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
    """Largest absolute and relative error per checked array; truthy when all pass.

    Returned by :func:`gradcheck`. An array passes when every probed entry has
    abs(analytic − numeric) ≤ atol + rtol · abs(numeric).

    Parameters
    ----------
    errors : dict of str to (float, float)
        For each checked array (parameter names as in ``state_dict()``, and ``"input"``):
        the largest abs(analytic − numeric) and the largest abs(analytic − numeric) /
        max(abs(numeric), atol) over its probed entries.
    passed : bool
        Whether every probed entry of every array is within tolerance.
    rtol : float
        The relative tolerance used.
    atol : float
        The absolute tolerance used.

    See Also
    --------
    gradcheck : makes it.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> result = nn.gradcheck(nn.Dense(3, 2, seed=0), np.random.default_rng(0).normal(size=(4, 3)))
    >>> bool(result), result.rtol
    (True, 1e-05)
    >>> result.to_frame()["array"].tolist()
    ['weight', 'bias', 'input']
    """

    errors: dict[str, tuple[float, float]]
    passed: bool
    rtol: float
    atol: float

    def __bool__(self) -> bool:
        return self.passed

    def to_frame(self) -> pd.DataFrame:
        """The errors as a table.

        Returns
        -------
        pandas.DataFrame
            One row per checked array: ``array``, ``max_abs_error``, ``max_rel_error``.
        """
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

    A hand-written backward pass is checked against the definition of the derivative: nudge
    one entry θ of a parameter (or of the input) by ±ε, evaluate the scalar E both times,
    and compare the slope (E(θ + ε) − E(θ − ε)) / 2ε, whose error shrinks like ε², with the
    gradient ``backward`` wrote into ``grads``. The scalar is ``loss(out, target)`` (default
    ½Σ(target − out)²); with no target it is Σ r ⊙ out for a fixed random r, so that every
    output's derivative takes part (the whole Jacobian is checked in one number). At most
    ``max_entries`` entries per array are probed (chosen at random with ``seed``). Layers that
    draw random numbers (Dropout) have their generators rewound before every evaluation, so
    each one sees the same mask. The model itself is left untouched. PyTorch's peer is
    ``torch.autograd.gradcheck``.

    Parameters
    ----------
    model_or_layer : Layer
        A layer or a ``Sequential``.
    x : array-like
        An input batch (copied to float64).
    target : array-like, optional
        Target for ``loss``; without it E = Σ r ⊙ out.
    loss : Loss, optional
        The loss with ``target``; default ``HalfSquaredError(reduction="sum")``.
    eps : float, default 1e-6
        The step ε.
    rtol : float, default 1e-5
        Relative tolerance.
    atol : float, default 1e-8
        Absolute tolerance.
    check_input : bool, default True
        Also check the gradient with respect to the input (what ``backward`` returns).
    max_entries : int, default 200
        Most entries probed per array.
    seed : int, default 0
        Seeds the choice of entries and r.

    Returns
    -------
    GradcheckResult
        Truthy when every probed entry satisfies abs(analytic − numeric) ≤ atol + rtol · abs(numeric);
        ``to_frame()`` gives the largest errors per array.

    Raises
    ------
    TypeError
        When ``model_or_layer`` is not a ``Layer``.
    RuntimeError
        When ``backward`` left no gradient for some parameter.

    See Also
    --------
    explain : the chain rule written out, factor by factor.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(3, 4, seed=0), nn.Tanh(), nn.Dense(4, 2, seed=1)])
    >>> rng = np.random.default_rng(0)
    >>> result = nn.gradcheck(model, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    >>> result.passed
    True
    >>> table = result.to_frame()
    >>> table["array"].tolist(), bool((table["max_rel_error"] < 1e-6).all())
    (['0.weight', '0.bias', '2.weight', '2.bias', 'input'], True)
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
