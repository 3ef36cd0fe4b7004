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

    How far back the loss at the last step reaches. Backpropagating from h_T to h_k
    multiplies by one Jacobian per step; for the tanh RNN each is ∂h_j/∂h_{j−1} =
    diag(1 − h_j²) W_H, so ‖∂L_T/∂h_k‖ ≤ ‖∂L_T/∂h_T‖ Π_{j=k+1}^{T} ‖diag(1 − h_j²) W_H‖₂, and
    when those norms are below 1 the signal dies away geometrically with the lag T − k. The
    LSTM's cell path multiplies by the forget gates instead, Π f_j, which stays near 1 while
    the gates are open.

    Parameters
    ----------
    model : Layer
        An ``RNN``/``LSTM`` layer or a ``Sequential`` holding one, optionally followed by
        per-step layers (a ``Dense`` head).
    x : array-like of shape (batch, time, features)
        The input sequences.
    y : array-like
        The target of the last step: class labels (batch,) for cross-entropy, or values
        (batch, features) for ½‖out − y‖².
    loss : Loss, optional
        Default ``CrossEntropy(reduction="sum")`` for integer ``y``, else
        ``HalfSquaredError("sum")``.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step`` k (from 1), ``lag`` T − k, ``grad_norm`` (batch mean of
        ‖∂L_T/∂h_k‖), and ``bound`` (RNN: the batch mean of the product-of-Jacobians bound)
        or ``forget_product`` (LSTM: mean Π_{j>k} f_j).

    Raises
    ------
    TypeError
        When the model does not hold exactly one ``RNN`` or ``LSTM`` layer.
    ValueError
        When the model's output has no time axis.

    See Also
    --------
    plot_gradient_by_lag : the curves on a log scale.

    Notes
    -----
    Parameter gradients of ``model`` are overwritten.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(4, 12, 3)), rng.normal(size=(4, 5))
    >>> rnn = nn.gradient_by_lag(nn.RNN(3, 5, seed=0, dtype="float64"), x, y)
    >>> rnn.tail(3).round(4)
        step  lag  grad_norm   bound
    9     10    2     0.4297  1.2361
    10    11    1     1.1573  1.7098
    11    12    0     2.3217  2.3217
    >>> bool((rnn["grad_norm"] <= rnn["bound"] + 1e-12).all())
    True
    >>> nn.gradient_by_lag(nn.LSTM(3, 5, seed=0, dtype="float64"), x, y).columns.tolist()
    ['step', 'lag', 'grad_norm', 'forget_product']
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
    """Semi-log plot of ‖∂L_T/∂h_k‖ against the lag, one line per model (dashed: the bound).

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        Tables of :func:`gradient_by_lag` by model name (the legend's labels).
    ax : matplotlib.axes.Axes, optional
        Where to draw; when None, a new ``matplotlib.figure.Figure`` (made without pyplot, so
        it is not kept in pyplot's list of open figures).

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes.

    See Also
    --------
    gradient_by_lag : the numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(4, 12, 3)), rng.normal(size=(4, 5))
    >>> frames = {"RNN": nn.gradient_by_lag(nn.RNN(3, 5, seed=0, dtype="float64"), x, y),
    ...           "LSTM": nn.gradient_by_lag(nn.LSTM(3, 5, seed=0, dtype="float64"), x, y)}
    >>> figure = Figure()
    >>> _ = nn.plot_gradient_by_lag(frames, ax=figure.add_subplot())
    >>> [line.get_label() for line in figure.axes[0].lines]
    ['RNN: ‖∂L_T/∂h_k‖', 'RNN: Π ‖diag(1−h²) W_H‖ bound', 'LSTM: ‖∂L_T/∂h_k‖']
    """
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(6.5, 4))
        ax = fig.add_subplot()
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
