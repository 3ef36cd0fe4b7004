"""Pictures of a trained CNN: its first-layer filters, the feature maps of one image, and
the learning curves. Each function returns a new matplotlib ``Figure`` (made without
pyplot, so no GUI backend is involved): ``fig.savefig("filters.png")``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from gradstat.nn.layers.conv import Conv2D
from gradstat.nn.layers.sequential import Sequential


def _grid(n: int) -> tuple[int, int]:
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def _first_conv(model: Sequential) -> int:
    for i, layer in enumerate(model.layers):
        if isinstance(layer, Conv2D):
            return i
    raise ValueError("the model has no Conv2D layer")


def plot_filters(model: Sequential, layer: int | None = None) -> Figure:
    """The learned filters of a Conv2D layer (default: the first), one panel per filter,
    channels averaged; a shared colour scale so the panels compare."""
    index = _first_conv(model) if layer is None else layer
    conv = model.layers[index]
    if not isinstance(conv, Conv2D):
        raise ValueError(f"layer {index} is {type(conv).__name__}, not Conv2D")
    weights = conv.params["weight"].mean(axis=1)
    limit = float(np.abs(weights).max()) or 1.0
    rows, cols = _grid(len(weights))
    fig = Figure(figsize=(1.6 * cols, 1.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(weights):
            ax.imshow(weights[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"filter {k}", fontsize=8)
    out_c, in_c, kh, kw = conv.params["weight"].shape
    fig.suptitle(f"layer {index}: {out_c} filters of {kh}×{kw}×{in_c} (mean over input channels)")
    return fig


def plot_feature_maps(model: Sequential, image: np.ndarray, layer: int | None = None) -> Figure:
    """The input ``image`` (C, H, W) and the maps it produces after ``layer`` (default:
    the activation right after the first convolution)."""
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"image must be (channels, height, width), got shape {image.shape}")
    index = min(_first_conv(model) + 1, len(model.layers) - 1) if layer is None else layer
    was_training = model.training
    model.eval()
    try:
        out = image[None]
        for current in model.layers[: index + 1]:
            out = current.forward(out)
    finally:
        model.train(was_training)
    if out.ndim != 4:
        raise ValueError(f"layer {index} gives shape {out.shape}, not feature maps")
    maps = out[0]
    rows, cols = _grid(len(maps) + 1)
    fig = Figure(figsize=(1.6 * cols, 1.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes.flat[0].imshow(image.mean(axis=0), cmap="gray_r")
    axes.flat[0].set_title("input", fontsize=8)
    for k, fmap in enumerate(maps, start=1):
        axes.flat[k].imshow(fmap, cmap="viridis")
        axes.flat[k].set_title(f"map {k - 1}", fontsize=8)
    fig.suptitle(f"feature maps after layer {index} ({type(model.layers[index]).__name__})")
    return fig


def plot_learning_curves(history: Mapping[str, Sequence[float]]) -> Figure:
    """Loss (left) and accuracy (right) per epoch, training and validation, from ``history_``."""
    fig = Figure(figsize=(9, 3.5))
    loss_ax, acc_ax = fig.subplots(1, 2)
    for key, ax in (("loss", loss_ax), ("accuracy", acc_ax)):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = history.get(prefix + key)
            if values:
                epochs = range(1, len(values) + 1)
                label = "validation" if prefix else "training"
                ax.plot(epochs, values, style, markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        if ax.lines:
            ax.legend()
    fig.tight_layout()
    return fig
