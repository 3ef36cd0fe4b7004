"""The vanishing gradient, measured: ‖∂L_T/∂h_k‖ against the lag T − k.

For the tanh RNN the factor between steps is ∂h_j/∂h_{j−1} = diag(1 − h_j²) W_H, so
‖∂L_T/∂h_k‖ ≤ ‖∂L_T/∂h_T‖ Π_{j=k+1}^{T} ‖diag(1 − h_j²) W_H‖₂ — a norm below 1 shrinks
the signal geometrically with the lag. The LSTM's cell path multiplies by the forget gates
instead, Π f_j, which stays near 1 when the gates are open, so the decay is slower.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gradstat.nn.layers.base import Layer
from gradstat.nn.layers.recurrent import LSTM, RNN, Recurrent
from gradstat.nn.losses import CrossEntropy, HalfSquaredError, Loss

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def gradient_by_lag(model: Layer, x: np.ndarray, y: np.ndarray, loss: Loss | None = None) -> pd.DataFrame:
    """‖∂L_T/∂h_k‖ for every step k, L_T the loss of the last step only (batch mean of norms).

    ``model`` is an ``RNN``/``LSTM`` layer or a ``Sequential`` holding one, optionally
    followed by per-step layers (a ``Dense`` head). ``y`` is the target of the last step:
    class labels (batch,) for cross-entropy, or values (batch, features) for ½‖out − y‖².
    Columns: ``step`` k, ``lag`` T − k, ``grad_norm``, and ``bound`` (RNN: the
    product-of-Jacobians bound) or ``forget_product`` (LSTM: mean Π_{j>k} f_j).
    Parameter gradients of ``model`` are overwritten.
    """
    layers: list[Layer] = list(getattr(model, "layers", [model]))
    found = [i for i, layer in enumerate(layers) if isinstance(layer, RNN | LSTM)]
    if len(found) != 1:
        raise TypeError(
            f"gradient_by_lag needs exactly one RNN or LSTM layer in the model, found {len(found)}"
        )
    idx = found[0]
    rec = layers[idx]
    assert isinstance(rec, Recurrent)
    h = np.asarray(x)
    for layer in layers[:idx]:
        h = layer.forward(h)
    out = hs = rec.forward(h)
    for layer in layers[idx + 1 :]:
        out = layer.forward(out)
    if out.ndim != 3:
        raise ValueError(f"the model must keep the time axis, its output has shape {out.shape}")
    y = np.asarray(y)
    if loss is None:
        loss = CrossEntropy(reduction="sum") if y.dtype.kind in "iu" else HalfSquaredError("sum")
    last = out[:, -1:]
    loss.forward(last, y[:, None] if y.ndim == out.ndim - 2 else y.reshape(last.shape[:-1] + y.shape[1:]))
    grad = np.zeros_like(out)
    grad[:, -1:] = loss.backward()  # only L_T
    for layer in reversed(layers[idx + 1 :]):
        grad = layer.backward(grad)
    rec.backward(grad, input_grad=False)
    assert rec.grad_hidden is not None
    norms = np.linalg.norm(rec.grad_hidden, axis=-1)  # (batch, time)
    steps = hs.shape[1]
    frame = pd.DataFrame({"step": np.arange(1, steps + 1), "lag": steps - np.arange(1, steps + 1)})
    frame["grad_norm"] = norms.mean(axis=0)
    if isinstance(rec, RNN):
        # ‖diag(1 − h_j²) W_H‖₂ for every sample and step j, multiplied from T back to k+1
        w_hh = rec.params["weight_hh_l0"].astype(np.float64)
        jac = (1.0 - hs.astype(np.float64) ** 2)[..., None] * w_hh  # (batch, time, H, H)
        factors = np.linalg.svd(jac, compute_uv=False)[..., 0]  # spectral norms
        tail = np.cumprod(factors[:, :0:-1], axis=1)[:, ::-1]  # Π_{j=k+1}^{T}, k < T
        products = np.concatenate([tail, np.ones((hs.shape[0], 1))], axis=1)
        frame["bound"] = (norms[:, -1:] * products).mean(axis=0)
    else:
        assert isinstance(rec, LSTM)
        forget = rec.forget_gates.astype(np.float64)
        tail = np.cumprod(forget[:0:-1], axis=0)[::-1]  # Π_{j=k+1}^{T} f_j, (T−1, batch, H)
        products = np.concatenate([tail, np.ones((1, *forget.shape[1:]))])
        frame["forget_product"] = products.mean(axis=(1, 2))
    return frame


def plot_gradient_by_lag(frames: dict[str, pd.DataFrame], ax: Any = None) -> Figure:
    """Semi-log plot of ‖∂L_T/∂h_k‖ against the lag, one line per model (dashed: the bound)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4))
    else:
        fig = ax.figure
    for name, frame in frames.items():
        (line,) = ax.semilogy(frame["lag"], frame["grad_norm"], label=f"{name}: ‖∂L_T/∂h_k‖")
        if "bound" in frame:
            ax.semilogy(
                frame["lag"],
                frame["bound"],
                "--",
                color=line.get_color(),
                label=f"{name}: Π ‖diag(1−h²) W_H‖ bound",
            )
    ax.set_xlabel("lag T − k")
    ax.set_ylabel("gradient norm")
    ax.set_title("Vanishing gradient: how far back the loss at step T reaches")
    ax.legend(fontsize=8)
    return fig
