"""The notes' backpropagation by hand, for every weight of a small network.

For an output weight the chain rule has three factors,
∂E/∂w5 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5; for a hidden weight the
first factor is itself a sum over the paths through the next layer,
∂E/∂out_h1 = Σ_j ∂E_oj/∂out_h1 with ∂E_oj/∂out_h1 = ∂E/∂out_oj · ∂out_oj/∂net_oj · w_{h1→oj}.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gradstat.nn.layers.activations import ReLU, Sigmoid, Tanh
from gradstat.nn.layers.base import Layer
from gradstat.nn.layers.dense import Dense
from gradstat.nn.losses import HalfSquaredError, Loss

if TYPE_CHECKING:
    import pandas as pd

    from gradstat.nn.layers.sequential import Sequential

MAX_PARAMS = 500


@dataclass
class Explanation:
    """The trace (``text``, also ``str()``) and its factors (``to_frame()``)."""

    text: str
    rows: list[dict[str, object]] = field(repr=False)
    paths: list[dict[str, object]] = field(repr=False)
    loss: float = 0.0

    def __str__(self) -> str:
        return self.text

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: the chain-rule factors, their product and the update."""
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("parameter")

    def paths_frame(self) -> pd.DataFrame:
        """One row per path from a hidden unit through a unit of the next layer."""
        import pandas as pd

        return pd.DataFrame(self.paths)


def _local_derivative(act: Layer | None, net: np.ndarray, out: np.ndarray) -> np.ndarray:
    if act is None:
        return np.ones_like(net)  # out = net
    if isinstance(act, Sigmoid):
        return out * (1 - out)  # ∂out/∂net = out (1 − out)
    if isinstance(act, Tanh):
        return 1 - out**2  # ∂out/∂net = 1 − out²
    return (net > 0).astype(net.dtype)  # ReLU


def _blocks(model: Sequential) -> list[tuple[Dense, Layer | None]]:
    blocks: list[tuple[Dense, Layer | None]] = []
    layers = list(model.layers)
    i = 0
    while i < len(layers):
        layer = layers[i]
        if not isinstance(layer, Dense):
            raise TypeError(
                f"explain() handles Dense layers each followed by at most one Sigmoid, Tanh or "
                f"ReLU; layer {i} is {type(layer).__name__}"
            )
        act = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(act, Sigmoid | Tanh | ReLU):
            blocks.append((layer, act))
            i += 2
        else:
            blocks.append((layer, None))
            i += 1
    return blocks


def explain(
    model: Sequential,
    x: np.ndarray,
    target: np.ndarray,
    loss: Loss | None = None,
    *,
    lr: float | None = None,
) -> Explanation:
    """Trace ∂E/∂w for every parameter of ``model`` on one sample ``x`` (float64).

    ``loss`` defaults to the notes' E = ½Σ(target − out)². With ``lr`` the trace
    ends with the updates w⁺ = w − γ ∂E/∂w.
    """
    if model.n_params > MAX_PARAMS:
        raise ValueError(
            f"explain() is for small networks (≤ {MAX_PARAMS} parameters), this one has {model.n_params}"
        )
    if lr is not None and not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    model = copy.deepcopy(model).to(np.float64)
    blocks = _blocks(model)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.size != blocks[0][0].in_features:
        raise ValueError(
            f"explain() needs one sample of {blocks[0][0].in_features} features, got {x.size} values"
        )
    loss = loss if loss is not None else HalfSquaredError(reduction="sum")
    n_hidden = len(blocks) - 1

    def unit(level: int, j: int) -> str:
        if level == 0:
            return f"i{j + 1}"
        if level == len(blocks):
            return f"o{j + 1}"
        return f"h{j + 1}" if n_hidden == 1 else f"h{level}_{j + 1}"

    # forward pass, keeping net and out of every unit
    outs, nets, derivs = [x], [], []
    for dense, act in blocks:
        net = dense.params["weight"] @ outs[-1]
        if dense.bias:
            net = net + dense.params["bias"]
        out = act.forward(net[None])[0] if act is not None else net
        nets.append(net)
        outs.append(out)
        derivs.append(_local_derivative(act, net, out))
    target_arr = np.asarray(target)  # one label (shape ()) or one target vector
    error = loss.forward(outs[-1][None], target_arr.reshape(1, *target_arr.shape[-1:]))
    d_out = [np.zeros(0)] * len(blocks)
    d_out[-1] = loss.backward()[0]  # ∂E/∂out of the output units

    lines = ["Forward pass"]
    for level, (net, out) in enumerate(zip(nets, outs[1:], strict=True), start=1):
        for j in range(net.size):
            lines.append(f"  net_{unit(level, j)} = {net[j]:.8f}   out_{unit(level, j)} = {out[j]:.8f}")
    lines.append(f"  E = {error:.8f}")

    # backward pass: ∂E/∂out of layer l from layer l+1, then the parameters
    rows: list[dict[str, object]] = []
    paths: list[dict[str, object]] = []
    names: dict[tuple[int, int, int], str] = {}
    counter = 0
    for level, (dense, _) in enumerate(blocks, start=1):
        w = dense.params["weight"]
        for j in range(w.shape[0]):
            for k in range(w.shape[1]):
                counter += 1
                names[(level, j, k)] = f"w{counter}"
    sections: list[list[str]] = []
    for level in range(len(blocks), 0, -1):
        idx = level - 1
        dense, _ = blocks[idx]
        section = [
            f"Backward pass: {'output' if level == len(blocks) else 'hidden'} layer "
            f"({', '.join(unit(level, j) for j in range(nets[idx].size))})"
        ]
        if level < len(blocks):
            nxt = blocks[idx + 1][0].params["weight"]
            delta_next = d_out[idx + 1] * derivs[idx + 1]
            d_out[idx] = nxt.T @ delta_next  # ∂E/∂out_h = Σ_j ∂E/∂net_j · w_{h→j}
            for k in range(nets[idx].size):
                h = unit(level, k)
                terms = []
                for j in range(nxt.shape[0]):
                    o = unit(level + 1, j)
                    value = delta_next[j] * nxt[j, k]
                    if level + 1 == len(blocks):
                        label = f"∂E_{o}/∂out_{h}"
                        factors = (
                            f"∂E/∂out_{o} ({d_out[idx + 1][j]:.8f}) × ∂out_{o}/∂net_{o} "
                            f"({derivs[idx + 1][j]:.8f}) × ∂net_{o}/∂out_{h} "
                            f"({nxt[j, k]:.8f})"
                        )
                    else:
                        label = f"∂E/∂net_{o}·∂net_{o}/∂out_{h}"
                        factors = f"∂E/∂net_{o} ({delta_next[j]:.8f}) × ∂net_{o}/∂out_{h} ({nxt[j, k]:.8f})"
                    terms.append((label, value, factors))
                    paths.append(
                        {
                            "unit": h,
                            "through": o,
                            "dE_dnet_next": delta_next[j],
                            "weight": nxt[j, k],
                            "contribution": value,
                        }
                    )
                total = " + ".join(f"{label} ({value:.8f})" for label, value, _ in terms)
                section.append(f"  ∂E/∂out_{h} = {total} = {d_out[idx][k]:.8f}")
                section.extend(f"    {label} = {factors} = {value:.8f}" for label, value, factors in terms)
        w = dense.params["weight"]
        for j in range(w.shape[0]):
            o = unit(level, j)
            for k in range(w.shape[1]):
                name, src = names[(level, j, k)], outs[idx][k]
                grad = d_out[idx][j] * derivs[idx][j] * src  # ∂E/∂out · ∂out/∂net · ∂net/∂w
                section.append(
                    f"  ∂E/∂{name} = ∂E/∂out_{o} ({d_out[idx][j]:.8f}) × ∂out_{o}/∂net_{o} "
                    f"({derivs[idx][j]:.8f}) × ∂net_{o}/∂{name} ({src:.8f}) = {grad:.8f}"
                )
                rows.append(
                    _row(
                        name,
                        level,
                        unit(level - 1, k),
                        o,
                        w[j, k],
                        d_out[idx][j],
                        derivs[idx][j],
                        src,
                        grad,
                        lr,
                    )
                )
            if dense.bias:
                b = dense.params["bias"][j]
                grad = d_out[idx][j] * derivs[idx][j]  # ∂net/∂b = 1
                section.append(
                    f"  ∂E/∂b_{o} = ∂E/∂out_{o} ({d_out[idx][j]:.8f}) × "
                    f"∂out_{o}/∂net_{o} ({derivs[idx][j]:.8f}) × 1 = {grad:.8f}"
                )
                rows.append(_row(f"b_{o}", level, "1", o, b, d_out[idx][j], derivs[idx][j], 1.0, grad, lr))
        sections.append(section)
    for section in sections:
        lines.extend(section)
    if lr is not None:
        lines.append(f"Update w⁺ = w − γ ∂E/∂w with γ = {lr:g}")
        lines.extend(
            f"  {r['parameter']}⁺ = {r['value']:.8f} − {lr:g} × {r['gradient']:.8f} = {r['updated']:.8f}"
            for r in rows
        )
    return Explanation("\n".join(lines), rows, paths, error)


def _row(
    name: str,
    level: int,
    src: str,
    dst: str,
    value: float,
    d_out: float,
    d_net: float,
    d_param: float,
    grad: float,
    lr: float | None,
) -> dict[str, object]:
    row: dict[str, object] = {
        "parameter": name,
        "layer": level,
        "from": src,
        "to": dst,
        "value": float(value),
        "dE_dout": float(d_out),
        "dout_dnet": float(d_net),
        "dnet_dparam": float(d_param),
        "gradient": float(grad),
    }
    if lr is not None:
        row["updated"] = float(value - lr * grad)  # w⁺ = w − γ ∂E/∂w
    return row
