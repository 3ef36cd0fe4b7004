"""The notes' backpropagation by hand: every weight of a small network, or one weight of any.

For an output weight the chain rule has three factors,
∂E/∂w5 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5; for a hidden weight the
first factor is itself a sum over the paths through the next layer,
∂E/∂out_h1 = Σ_j ∂E_oj/∂out_h1 with ∂E_oj/∂out_h1 = ∂E/∂out_oj · ∂out_oj/∂net_oj · w_{h1→oj}.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstat.nn.layers.activations import ReLU, Sigmoid, Tanh
from gradstat.nn.layers.base import Layer
from gradstat.nn.layers.dense import Dense
from gradstat.nn.losses import HalfSquaredError, Loss

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from gradstat.nn.layers.sequential import Sequential

MAX_PARAMS = 500


@dataclass
class Explanation:
    """The trace (``text``, also ``str()``) and its factors (``to_frame()``).

    Returned by :func:`explain`; notebooks show the trace as preformatted text.

    Parameters
    ----------
    text : str
        The trace: forward pass, each chain-rule product with its factors' values, and the
        updates when a learning rate was given.
    rows : list of dict
        One record per parameter (the full trace) or per factor of the chain (one weight);
        see :meth:`to_frame`.
    paths : list of dict
        One record per path from a hidden unit through a unit of the next layer (the full
        trace); see :meth:`paths_frame`.
    loss : float, default 0.0
        E on the sample.
    network : NetworkPicture, optional
        The units and weights that :meth:`plot` draws (one-weight explanations have it).

    See Also
    --------
    explain : makes it.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(2, 2, dtype="float64"), nn.Sigmoid(),
    ...                        nn.Dense(2, 2, dtype="float64"), nn.Sigmoid()])
    >>> _ = model.load_state_dict({"0.weight": np.array([[0.15, 0.20], [0.25, 0.30]]),
    ...                            "0.bias": np.array([0.35, 0.35]),
    ...                            "2.weight": np.array([[0.40, 0.45], [0.50, 0.55]]),
    ...                            "2.bias": np.array([0.60, 0.60])})
    >>> explanation = nn.explain(model, [0.05, 0.10], [0.01, 0.99])
    >>> print(str(explanation).splitlines()[1])
      net_h1 = 0.37750000   out_h1 = 0.59326999
    >>> explanation.paths_frame().round(6).head(2)
      unit through  dE_dnet_next  weight  contribution
    0   h1      o1      0.138499     0.4      0.055399
    1   h1      o2     -0.038098     0.5     -0.019049
    """

    text: str
    rows: list[dict[str, object]] = field(repr=False)
    paths: list[dict[str, object]] = field(repr=False)
    loss: float = 0.0
    network: NetworkPicture | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        """Notebooks show the trace as preformatted text."""
        return f"<pre>{html.escape(self.text)}</pre>"

    def plot(self, *, max_units: int = 8) -> Figure:
        """The network as a graph: each node a unit coloured by its activation (value printed),
        each edge a weight drawn by its gradient ∂E/∂w (width ∝ abs(∂E/∂w), red < 0 < blue).

        Layers wider than ``max_units`` show the units on the explained path first, then those
        with the largest abs(∂E/∂out); the explained weight's edge is drawn in black.

        Parameters
        ----------
        max_units : int, default 8
            Most units drawn per layer.

        Returns
        -------
        matplotlib.figure.Figure
            The drawing (not shown: display it in a notebook or ``savefig`` it).

        Raises
        ------
        ValueError
            When the explanation has no network to draw: the full trace of
            ``explain(model, x, target)`` has none; one weight's (``weight=``) has, for a
            network of Dense layers on flat inputs.

        Examples
        --------
        >>> import numpy as np
        >>> from gradstat import nn
        >>> model = nn.Sequential([nn.Dense(2, 2, dtype="float64"), nn.Sigmoid(),
        ...                        nn.Dense(2, 2, dtype="float64"), nn.Sigmoid()])
        >>> _ = model.load_state_dict({"0.weight": np.array([[0.15, 0.20], [0.25, 0.30]]),
        ...                            "0.bias": np.array([0.35, 0.35]),
        ...                            "2.weight": np.array([[0.40, 0.45], [0.50, 0.55]]),
        ...                            "2.bias": np.array([0.60, 0.60])})
        >>> figure = nn.explain(model, [0.05, 0.10], [0.01, 0.99], weight="0.weight[0, 0]").plot()
        >>> type(figure).__name__, len(figure.axes)
        ('Figure', 1)
        """
        if self.network is None:
            raise ValueError("this explanation has no network to draw")
        return self.network.plot(max_units)

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: the chain-rule factors, their product and the update (the full
        trace); one row per factor of the chain (one weight).

        Returns
        -------
        pandas.DataFrame
            Full trace: indexed by ``parameter`` (w1, w2, … numbered layer by layer, unit by
            unit, as in the notes; b_h1 … for biases), with columns ``layer``, ``from``,
            ``to``, ``value``, ``dE_dout`` (∂E/∂out), ``dout_dnet`` (∂out/∂net),
            ``dnet_dparam`` (∂net/∂w), ``gradient`` (their product ∂E/∂w) and, with a
            learning rate, ``updated`` (w − γ ∂E/∂w). One weight: indexed by ``factor``, with
            its ``value``.

        Examples
        --------
        >>> import numpy as np
        >>> from gradstat import nn
        >>> model = nn.Sequential([nn.Dense(2, 2, dtype="float64"), nn.Sigmoid(),
        ...                        nn.Dense(2, 2, dtype="float64"), nn.Sigmoid()])
        >>> _ = model.load_state_dict({"0.weight": np.array([[0.15, 0.20], [0.25, 0.30]]),
        ...                            "0.bias": np.array([0.35, 0.35]),
        ...                            "2.weight": np.array([[0.40, 0.45], [0.50, 0.55]]),
        ...                            "2.bias": np.array([0.60, 0.60])})
        >>> table = nn.explain(model, [0.05, 0.10], [0.01, 0.99], lr=0.5).to_frame()
        >>> table.loc[["w5", "w1"], ["dE_dout", "dout_dnet", "dnet_dparam", "gradient", "updated"]].round(6)
                    dE_dout  dout_dnet  dnet_dparam  gradient   updated
        parameter
        w5         0.741365   0.186816      0.59327  0.082167  0.358916
        w1         0.036350   0.241301      0.05000  0.000439  0.149781
        """
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        return frame.set_index("parameter" if "parameter" in frame else "factor")

    def paths_frame(self) -> pd.DataFrame:
        """One row per path from a hidden unit through a unit of the next layer.

        Each row is one term of ∂E/∂out_h = Σ_j ∂E/∂net_j · w_{h→j}: the hidden unit, the unit
        j it feeds, ∂E/∂net_j, the weight, and their product.

        Returns
        -------
        pandas.DataFrame
            Columns ``unit``, ``through``, ``dE_dnet_next``, ``weight``, ``contribution``
            (empty for a one-weight explanation).
        """
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
    weight: str | None = None,
) -> Explanation:
    """Trace ∂E/∂w for every parameter of ``model`` on one sample ``x`` (float64).

    Backpropagation by hand, as in the notes' worked example. A weight w into output unit o
    moves E through three links, so ∂E/∂w = ∂E/∂out_o · ∂out_o/∂net_o · ∂net_o/∂w: the
    loss's slope at the output, the activation's slope (out(1 − out) for the sigmoid) and the
    input the weight multiplies. For a weight into a hidden unit h the first factor collects
    every route from h to the loss: ∂E/∂out_h = Σ_j ∂E/∂net_j · w_{h→j} over the units j of
    the next layer, each ∂E/∂net_j already known from the layer above. Every gradient uses
    the weights of the forward pass; with ``lr`` the trace ends with the updates
    w⁺ = w − γ ∂E/∂w. The full trace computes every factor from the values of the forward
    pass; the one-weight trace (``weight=``) reads the δ's from the layers' own backward
    passes. The model is copied to float64 and left untouched.

    Parameters
    ----------
    model : Sequential
        Dense layers, each followed by at most one Sigmoid, Tanh or ReLU (any layers for
        ``weight=``).
    x : array-like
        One sample (its features).
    target : array-like
        Its target vector, or a class label for ``CrossEntropy``.
    loss : Loss, optional
        Defaults to the notes' E = ½Σ(target − out)² (``HalfSquaredError(reduction="sum")``).
    lr : float, optional
        γ > 0: add the updates w⁺ = w − γ ∂E/∂w to the full trace (not used with ``weight=``).
    weight : str, optional
        ``"2.weight[3, 5]"`` (a layer index, a key of its ``params`` and an index) explains that
        one weight of a network of any size: ∂E/∂w = δ_j · in_k, with δ_j = ∂E/∂net_j built
        from the δ's of the layers above.

    Returns
    -------
    Explanation
        The trace (``str()``), its factors (``to_frame()``), the paths through the next layer
        (``paths_frame()``) and E (``loss``).

    Raises
    ------
    ValueError
        When the full trace is asked of a network with more than 500 parameters, ``lr`` is
        not positive, ``x`` has the wrong number of features, or ``weight`` is malformed or
        names a layer, parameter or index the model does not have.
    TypeError
        When the full trace meets a layer other than Dense, Sigmoid, Tanh or ReLU.

    See Also
    --------
    gradcheck : the same gradients against central differences.
    Sequential.explain : the same, as a method.

    Notes
    -----
    With the notes' network (weights from errata.md) E is 0.298371109: the notes' 0.29337 is a
    slip. The notes' line "w7⁺ = 0.4 − 0.5 × 0.082167" is the update of w5, and their
    ∂E_o1/∂out_h1 uses w5 (0.40), not w3.

    Examples
    --------
    The notes' worked example (two inputs, two sigmoid hidden units, two sigmoid outputs):

    >>> import numpy as np
    >>> from gradstat import nn
    >>> model = nn.Sequential([nn.Dense(2, 2, dtype="float64"), nn.Sigmoid(),
    ...                        nn.Dense(2, 2, dtype="float64"), nn.Sigmoid()])
    >>> _ = model.load_state_dict({"0.weight": np.array([[0.15, 0.20], [0.25, 0.30]]),
    ...                            "0.bias": np.array([0.35, 0.35]),
    ...                            "2.weight": np.array([[0.40, 0.45], [0.50, 0.55]]),
    ...                            "2.bias": np.array([0.60, 0.60])})
    >>> explanation = nn.explain(model, [0.05, 0.10], [0.01, 0.99], lr=0.5)
    >>> round(explanation.loss, 9)
    0.298371109
    >>> table = explanation.to_frame()
    >>> table.loc[["w5", "w1"], ["gradient", "updated"]].round(9)
               gradient   updated
    parameter
    w5         0.082167  0.358916
    w1         0.000439  0.149781
    >>> print(nn.explain(model, [0.05, 0.10], [0.01, 0.99], weight="2.weight[0, 0]").text.splitlines()[-2])
    ∂E/∂w = δ_0 × ∂net_0/∂w = δ_0 × in_0 = 0.13849856 × 0.59326999 = 0.08216704
    """
    if weight is not None:
        return explain_weight(model, x, target, loss, weight)
    if model.n_params > MAX_PARAMS:
        raise ValueError(
            f"the full trace is for small networks (≤ {MAX_PARAMS} parameters), this one has "
            f"{model.n_params}: explain one weight with weight='0.weight[0, 0]'"
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


# --- one weight of a network of any size -------------------------------------------------------------
WEIGHT_SPEC = re.compile(r"^\s*(\d+)\.(\w+)\s*\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]\s*$")
SHOWN_TERMS = 6  # a sum over more units shows its largest terms and the rest as one number


def local_derivative_name(layer: Layer) -> str:
    """The formula of ∂out/∂net for the element-wise layers the notes use."""
    return {
        "Sigmoid": "out (1 − out)",
        "Tanh": "1 − out²",
        "ReLU": "1[net > 0]",
    }.get(type(layer).__name__, f"{type(layer).__name__}′(net)")


def parse_weight(model: Sequential, spec: str) -> tuple[int, str, tuple[int, ...]]:
    """``"2.weight[3, 5]"`` → (layer 2, ``"weight"``, (3, 5)), checked against the model."""
    match = WEIGHT_SPEC.match(spec)
    if match is None:
        raise ValueError(f"weight must look like '2.weight[3, 5]' (layer.parameter[index]), got {spec!r}")
    layer_index, name = int(match.group(1)), match.group(2)
    index = tuple(int(i) for i in match.group(3).split(","))
    if layer_index >= len(model.layers):
        raise ValueError(f"weight {spec!r}: the model has layers 0..{len(model.layers) - 1}")
    params = model.layers[layer_index].params
    if name not in params:
        raise ValueError(
            f"weight {spec!r}: layer {layer_index} ({type(model.layers[layer_index]).__name__}) has "
            f"parameters {sorted(params) or 'none'}"
        )
    shape = params[name].shape
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape, strict=False)):
        raise ValueError(f"weight {spec!r}: index {list(index)} is outside the shape {shape}")
    return layer_index, name, index


def vector_text(values: np.ndarray, label: str) -> str:
    """A δ vector in a line: every value when short, else its norm and largest entries."""
    flat = values.reshape(-1)
    if flat.size <= SHOWN_TERMS:
        return f"{label} = [{', '.join(f'{v:.8f}' for v in flat)}]"
    top = np.argsort(-np.abs(flat))[:3]
    shown = ", ".join(f"[{i}] {flat[i]:.8f}" for i in top)
    return f"{label}: {flat.size} values, ‖·‖ = {np.linalg.norm(flat):.8f}, largest {shown}"


def sum_text(terms: list[tuple[str, float, float]], total: float) -> list[str]:
    """Σ_m δ_m w_m written out: every term, or the largest and the rest together."""
    order = sorted(range(len(terms)), key=lambda m: -abs(terms[m][1] * terms[m][2]))
    shown = order if len(terms) <= SHOWN_TERMS else order[: SHOWN_TERMS - 1]
    lines = [f"    {terms[m][0]}: δ {terms[m][1]:.8f} × w {terms[m][2]:.8f} = {terms[m][1] * terms[m][2]:.8f}"
             for m in shown]  # fmt: skip
    if len(shown) < len(terms):
        rest = total - sum(terms[m][1] * terms[m][2] for m in shown)
        lines.append(f"    … {len(terms) - len(shown)} smaller terms: {rest:.8f}")
    return lines


def explain_weight(
    model: Sequential, x: np.ndarray, target: np.ndarray, loss: Loss | None, spec: str
) -> Explanation:
    """The chain rule for one weight: ∂E/∂w = δ_j · in_k, δ_j from the δ's of the layers above."""
    from gradstat.nn.layers.dense import Dense

    layer_index, name, index = parse_weight(model, spec)
    model = copy.deepcopy(model).to(np.float64)
    layers = list(model.layers)
    sample = np.asarray(x, dtype=np.float64)[None]
    ins = []
    for layer in layers:  # forward, keeping every layer's input
        ins.append(sample)
        sample = layer.forward(sample)
    outs = [*ins[1:], sample]  # every layer's output
    loss = loss if loss is not None else HalfSquaredError(reduction="sum")
    target_arr = np.asarray(target)
    error = loss.forward(sample, target_arr.reshape(1, *target_arr.shape[-1:]))
    grads_out = [np.zeros(0)] * len(layers)  # ∂E/∂(output of layer i)
    grad = loss.backward()
    for i in range(len(layers) - 1, -1, -1):
        grads_out[i] = grad
        grad = layers[i].backward(grad, input_grad=i > 0)
    target_layer = layers[layer_index]
    value = float(target_layer.params[name][index])
    gradient = float(target_layer.grads[name][index])
    lines = [f"∂E/∂{spec.strip()} on one sample, E = {error:.8f} ({type(loss).__name__})"]
    rows: list[dict[str, object]] = []
    lines.append("δ's of the layers above, from the loss down:")
    for i in range(len(layers) - 1, layer_index, -1):
        lines.append(
            "  " + vector_text(grads_out[i][0], f"∂E/∂out of layer {i} ({type(layers[i]).__name__})")
        )
    if isinstance(target_layer, Dense) and name in ("weight", "bias"):
        j = index[0]
        delta = float(grads_out[layer_index][0, j])
        source = float(ins[layer_index][0, index[1]]) if name == "weight" else 1.0
        sizes = f"{target_layer.in_features}→{target_layer.out_features}"
        lines.append(f"Unit {j} of layer {layer_index} (Dense {sizes}):")
        above = layer_index + 1
        if above < len(layers) and not layers[above].params:  # an element-wise activation
            act = layers[above]
            d_out = float(grads_out[above][0, j])
            net, out = float(ins[above][0, j]), float(outs[above][0, j])
            local = delta / d_out if d_out != 0 else float("nan")
            after = above + 1
            if after < len(layers) and isinstance(layers[after], Dense):
                w_next = layers[after].params["weight"][:, j]
                deltas = grads_out[after][0]
                units = f"the {deltas.size} units of layer {after}"
                lines.append(f"  ∂E/∂out_{j} = Σ_m δ_m · w_m{j} over {units} = {d_out:.8f}")
                lines.extend(sum_text([(f"m = {m}", float(deltas[m]), float(w_next[m]))
                                       for m in range(deltas.size)], d_out))  # fmt: skip
            else:
                lines.append(f"  ∂E/∂out_{j} = {d_out:.8f}")
            lines.append(f"  net_{j} = {net:.8f}, out_{j} = {out:.8f}")
            lines.append(f"  δ_{j} = ∂E/∂net_{j} = ∂E/∂out_{j} × ∂out/∂net [{local_derivative_name(act)}] "
                         f"= {d_out:.8f} × {local:.8f} = {delta:.8f}")  # fmt: skip
            rows.append({"factor": f"∂E/∂out_{j}", "value": d_out})
            rows.append({"factor": f"∂out_{j}/∂net_{j}", "value": local})
        else:  # the output layer: δ comes straight from the loss (softmax − one-hot for cross-entropy)
            lines.append(f"  δ_{j} = ∂E/∂net_{j} = ∂{type(loss).__name__}/∂net_{j} = {delta:.8f}")
        rows.append({"factor": f"δ_{j} = ∂E/∂net_{j}", "value": delta})
        if name == "weight":
            lines.append(f"∂E/∂w = δ_{j} × ∂net_{j}/∂w = δ_{j} × in_{index[1]} = {delta:.8f} × {source:.8f} "
                         f"= {gradient:.8f}")  # fmt: skip
            rows.append({"factor": f"∂net_{j}/∂w = in_{index[1]}", "value": source})
        else:
            lines.append(f"∂E/∂b = δ_{j} × 1 = {gradient:.8f}")
    else:
        lines.append(vector_text(grads_out[layer_index][0], f"∂E/∂out of layer {layer_index}"))
        lines.append(f"∂E/∂w from layer {layer_index}'s backward pass = {gradient:.8f}")
    rows.append({"factor": "∂E/∂w", "value": gradient})
    lines.append(f"(w = {value:.8f})")
    picture = NetworkPicture.from_pass(layers, ins, outs, grads_out, (layer_index, name, index))
    return Explanation("\n".join(lines), rows, [], error, picture)


@dataclass
class NetworkPicture:
    """What ``Explanation.plot`` draws: the Dense layers' units and weights on one sample."""

    activations: list[np.ndarray]  # per level: the units' outputs (level 0: the inputs)
    out_grads: list[np.ndarray]  # per level: ∂E/∂out of each unit
    weight_grads: list[np.ndarray]  # per Dense layer: ∂E/∂W (out × in)
    highlight: tuple[int, int, int] | None  # (dense level, j, k) of the explained weight

    @classmethod
    def from_pass(
        cls,
        layers: list[Layer],
        ins: list[np.ndarray],
        outs: list[np.ndarray],
        grads_out: list[np.ndarray],
        target: tuple[int, str, Any],
    ) -> NetworkPicture | None:
        from gradstat.nn.layers.dense import Dense

        dense = [i for i, layer in enumerate(layers) if isinstance(layer, Dense)]
        if not dense or any(ins[i].ndim != 2 for i in dense):
            return None
        activations = [ins[dense[0]][0]]
        out_grads = [np.zeros_like(activations[0])]
        weight_grads = []
        highlight = None
        for level, i in enumerate(dense, start=1):
            # the unit's output: after the element-wise layer that follows, if any
            last = i + 1 if i + 1 < len(layers) and not layers[i + 1].params else i
            activations.append(outs[last][0])
            out_grads.append(grads_out[last][0])
            weight_grads.append(layers[i].grads["weight"])
            if target[0] == i and target[1] == "weight":
                highlight = (level, target[2][0], target[2][1])
        return cls(activations, out_grads, weight_grads, highlight)

    def units_shown(self, level: int, max_units: int) -> list[int]:
        n = self.activations[level].size
        if n <= max_units:
            return list(range(n))
        keep: list[int] = []
        if self.highlight is not None:
            lvl, j, k = self.highlight
            keep += [j] if level == lvl else [k] if level == lvl - 1 else []
        for u in np.argsort(-np.abs(self.out_grads[level])):
            if len(keep) >= max_units:
                break
            if int(u) not in keep:
                keep.append(int(u))
        return sorted(keep)

    def plot(self, max_units: int) -> Figure:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(2.2 * len(self.activations) + 1, 0.6 * max_units + 1.5))
        ax = fig.add_subplot()
        shown = [self.units_shown(level, max_units) for level in range(len(self.activations))]
        pos = {
            (lv, u): (lv, -r + (len(units) - 1) / 2)
            for lv, units in enumerate(shown)
            for r, u in enumerate(units)
        }
        biggest = max((float(np.max(np.abs(g))) for g in self.weight_grads), default=1.0) or 1.0
        for level, grads in enumerate(self.weight_grads, start=1):
            for j in shown[level]:
                for k in shown[level - 1]:
                    g = float(grads[j, k])
                    (x0, y0), (x1, y1) = pos[(level - 1, k)], pos[(level, j)]
                    chosen = self.highlight == (level, j, k)
                    colour = "black" if chosen else ("tab:blue" if g >= 0 else "tab:red")
                    width = 3.0 if chosen else 0.3 + 3.0 * abs(g) / biggest
                    ax.plot(
                        [x0, x1], [y0, y1], color=colour, linewidth=width, alpha=0.7 + 0.3 * chosen, zorder=1
                    )
                    if chosen:
                        ax.annotate(f"∂E/∂w = {g:.3g}", ((x0 + x1) / 2, (y0 + y1) / 2), fontsize=8,
                                    ha="center", va="bottom")  # fmt: skip
        for level, units in enumerate(shown):
            values = self.activations[level]
            for u in units:
                xy = pos[(level, u)]
                ax.scatter(*xy, s=420, c=[[float(np.tanh(values[u]))]], cmap="viridis", vmin=-1, vmax=1,
                           edgecolors="black", zorder=2)  # fmt: skip
                ax.annotate(
                    f"{values[u]:.2f}", xy, fontsize=7, ha="center", va="center", color="white", zorder=3
                )
            hidden = values.size - len(units)
            if hidden:
                ax.annotate(f"+{hidden} units", (level, -(len(units) + 1) / 2), fontsize=7, ha="center")
        ax.set_ylim(-(max_units + 2) / 2, (max_units + 1) / 2)
        ax.set_xticks(range(len(shown)), ["input", *(f"Dense {i}" for i in range(1, len(shown)))])
        ax.set_yticks([])
        ax.set_title("activations on the nodes, ∂E/∂w on the edges (width ∝ |∂E/∂w|, red < 0 < blue)")
        return fig
