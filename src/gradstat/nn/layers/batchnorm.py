"""Batch normalisation: standardise each channel over the batch, then scale and shift.

Training: x̂ = (x − μ_B) / √(σ²_B + ε) with the batch mean μ_B and biased variance σ²_B of
each channel (over the batch and any length/height/width axes), out = γ x̂ + β. The running
statistics follow PyTorch: r ← (1 − m) r + m · stat_B, with the *unbiased* batch variance
(σ²_B · n/(n − 1)) for ``running_var``; ``momentum=None`` averages all batches so far
(m = 1/t). Evaluation uses the running statistics instead of the batch's. Parameter and
buffer names are PyTorch's (``weight``, ``bias``; ``running_mean``, ``running_var``,
``num_batches_tracked``), so a ``torch.nn.BatchNorm*d`` state dict maps one to one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer, Shape


class _BatchNorm(Layer):
    """The engine shared by BatchNorm1D and BatchNorm2D: channels on axis 1."""

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def replica(self, part: int = 0) -> Layer | None:
        return None if self.training else super().replica(part)  # training: the statistics of the whole batch

    _ranks: tuple[int, ...] = ()
    _layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if (
            isinstance(num_features, bool)
            or not isinstance(num_features, int | np.integer)
            or num_features < 1
        ):
            raise ValueError(f"{name} num_features must be a positive integer, got {num_features!r}")
        if isinstance(eps, bool) or not isinstance(eps, int | float) or not eps > 0:
            raise ValueError(f"{name} eps must be a positive number, got {eps!r}")
        if momentum is not None and (
            isinstance(momentum, bool) or not isinstance(momentum, int | float) or not 0 <= momentum <= 1
        ):
            raise ValueError(f"{name} momentum must be a number in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps = int(num_features), float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"{name} dtype must be a floating type, got {self.dtype}")
        c = self.num_features
        if self.affine:
            self.params = {"weight": np.ones(c, self.dtype), "bias": np.zeros(c, self.dtype)}
        if self.track_running_stats:
            self.buffers = {
                "running_mean": np.zeros(c, self.dtype),
                "running_var": np.ones(c, self.dtype),
                "num_batches_tracked": np.zeros((), np.int64),
            }

    def _check(self, shape: Shape) -> None:
        if len(shape) not in self._ranks or shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input of shape {self._layout} "
                f"with C={self.num_features}, got {tuple(shape)}"
            )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._check(x.shape)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{type(self).__name__} expects numbers, got dtype {x.dtype}")
        x = x.astype(self.dtype, copy=False)
        axes = (0, *range(2, x.ndim))  # every axis but the channels
        per_channel = (-1,) + (1,) * (x.ndim - 2)
        batch_stats = self.training or not self.track_running_stats
        if batch_stats:
            n = x.size // self.num_features
            if self.training and n < 2:
                raise ValueError(
                    f"{type(self).__name__} needs more than one value per channel when training, "
                    f"got input of shape {x.shape}"
                )
            mean = x.mean(axis=axes)  # μ_B
            var = x.var(axis=axes)  # σ²_B (biased: it normalises the batch)
            if self.training and self.track_running_stats:
                self._update_running(mean, var, n)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        inv_std = 1.0 / np.sqrt(var + self.eps)  # 1/√(σ² + ε)
        x_hat = (x - mean.reshape(per_channel)) * inv_std.reshape(per_channel)  # x̂ = (x − μ)/√(σ² + ε)
        self._cache = (x_hat, inv_std, batch_stats, axes, per_channel)
        if not self.affine:
            return x_hat
        return x_hat * self.params["weight"].reshape(per_channel) + self.params["bias"].reshape(per_channel)

    def _update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        tracked = self.buffers["num_batches_tracked"]
        tracked += 1
        m = 1.0 / float(tracked) if self.momentum is None else self.momentum
        # r ← (1 − m) r + m · stat_B, the variance unbiased: σ²_B · n/(n − 1)
        self.buffers["running_mean"] *= 1.0 - m
        self.buffers["running_mean"] += m * mean
        self.buffers["running_var"] *= 1.0 - m
        self.buffers["running_var"] += m * var * (n / (n - 1))

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Fill ∂E/∂γ = Σ g x̂ and ∂E/∂β = Σ g; return ∂E/∂x.

        ∂E/∂x = γ/σ (g − mean g − x̂ mean(g x̂)) in training (the batch statistics depend
        on x), γ g/σ in evaluation, σ = √(σ² + ε).

        Parameters
        ----------
        grad_output : numpy.ndarray
            g = ∂E/∂out, the shape of the last output.
        input_grad : bool, default True
            False skips ∂E/∂x.

        Returns
        -------
        numpy.ndarray
            ∂E/∂x; an empty array when ``input_grad`` is False.
        """
        x_hat, inv_std, batch_stats, axes, per_channel = self._cache
        g = np.asarray(grad_output).astype(self.dtype, copy=False)
        if self.affine:
            np.sum(g * x_hat, axis=axes, out=self.grad_buffer("weight"))  # ∂E/∂γ = Σ g x̂
            np.sum(g, axis=axes, out=self.grad_buffer("bias"))  # ∂E/∂β = Σ g
        if not input_grad:
            return np.empty(0, self.dtype)
        scale = inv_std if not self.affine else inv_std * self.params["weight"]
        if not batch_stats:
            return g * scale.reshape(per_channel)  # ∂E/∂x = γ g / √(σ²_run + ε)
        mean_g = g.mean(axis=axes).reshape(per_channel)
        mean_gx = (g * x_hat).mean(axis=axes).reshape(per_channel)
        return scale.reshape(per_channel) * (g - mean_g - x_hat * mean_gx)  # γ/σ (g − ḡ − x̂ mean(g x̂))

    def output_shape(self, input_shape: Shape) -> Shape:
        self._check(input_shape)
        return input_shape

    def config(self) -> dict[str, Any]:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "affine": self.affine,
            "track_running_stats": self.track_running_stats,
            "dtype": self.dtype.name,
        }


class BatchNorm1D(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input: standardise each channel over the batch.

    Training: x̂ = (x − μ_B) / √(σ²_B + ε), with the batch mean μ_B and biased variance
    σ²_B of each channel over N (and L), and out = γ x̂ + β. The running statistics move
    towards each batch's, r ← (1 − m) r + m · stat_B, with the unbiased variance
    σ²_B · n/(n − 1) for ``running_var``; evaluation mode (`eval`) normalises by them
    instead. Backward, with g = ∂E/∂out and sums and means over N (and L): ∂E/∂γ = Σ g x̂,
    ∂E/∂β = Σ g; in training, where μ_B and σ²_B depend on x,
    ∂E/∂x = γ / √(σ²_B + ε) · (g − mean(g) − x̂ mean(g x̂)); in evaluation,
    ∂E/∂x = γ g / √(σ²_run + ε).

    PyTorch: ``torch.nn.BatchNorm1d``; the same parameter and buffer names, defaults and
    layouts, so its state dict maps one to one.

    Parameters
    ----------
    num_features : int
        C, the number of channels (axis 1 of the input).
    eps : float, default 1e-5
        ε > 0, added to the variance.
    momentum : float or None, default 0.1
        m in r ← (1 − m) r + m · stat_B, in [0, 1]; None averages all batches so far
        (m = 1/t at the t-th batch).
    affine : bool, default True
        Learn γ (starting at ones) and β (zeros); False leaves them out.
    track_running_stats : bool, default True
        Keep the running statistics; False normalises by the batch's statistics in
        evaluation mode too.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters, buffers and computation.

    Attributes
    ----------
    params : dict
        ``"weight"`` (γ) and ``"bias"`` (β), each of shape (C,).
    buffers : dict
        ``"running_mean"`` (C,), ``"running_var"`` (C,), ``"num_batches_tracked"`` (),
        int64.

    Raises
    ------
    ValueError
        If an argument is out of range; from `forward`, for an input of another layout or
        channel count, or with one value per channel in training.
    TypeError
        If ``dtype`` is not floating; from `forward`, for non-numeric input.

    See Also
    --------
    BatchNorm2D : the same for images.
    LayerNorm : standardise each sample instead, with no running statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import BatchNorm1D
    >>> layer = BatchNorm1D(1, dtype="float64")
    >>> layer.forward(np.array([[1.0], [3.0]])).round(4).tolist()
    [[-1.0], [1.0]]
    >>> layer.buffers["running_mean"].tolist(), layer.buffers["running_var"].round(6).tolist()
    ([0.2], [1.1])
    >>> layer.eval().forward(np.array([[1.0]])).round(4).tolist()  # (1 − 0.2) / √1.1
    [[0.7628]]
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2D(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input: standardise each channel over batch and pixels.

    Training: x̂ = (x − μ_B) / √(σ²_B + ε), with the batch mean μ_B and biased variance
    σ²_B of each channel over N, H and W, and out = γ x̂ + β. The running statistics move
    towards each batch's, r ← (1 − m) r + m · stat_B, with the unbiased variance
    σ²_B · n/(n − 1) for ``running_var``; evaluation mode (`eval`) normalises by them
    instead. Backward, with g = ∂E/∂out and sums and means over N, H and W: ∂E/∂γ = Σ g x̂,
    ∂E/∂β = Σ g; in training, where μ_B and σ²_B depend on x,
    ∂E/∂x = γ / √(σ²_B + ε) · (g − mean(g) − x̂ mean(g x̂)); in evaluation,
    ∂E/∂x = γ g / √(σ²_run + ε).

    PyTorch: ``torch.nn.BatchNorm2d``; the same parameter and buffer names, defaults and
    layouts, so its state dict maps one to one.

    Parameters
    ----------
    num_features : int
        C, the number of channels (axis 1 of the input).
    eps : float, default 1e-5
        ε > 0, added to the variance.
    momentum : float or None, default 0.1
        m in r ← (1 − m) r + m · stat_B, in [0, 1]; None averages all batches so far
        (m = 1/t at the t-th batch).
    affine : bool, default True
        Learn γ (starting at ones) and β (zeros); False leaves them out.
    track_running_stats : bool, default True
        Keep the running statistics; False normalises by the batch's statistics in
        evaluation mode too.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters, buffers and computation.

    Attributes
    ----------
    params : dict
        ``"weight"`` (γ) and ``"bias"`` (β), each of shape (C,).
    buffers : dict
        ``"running_mean"`` (C,), ``"running_var"`` (C,), ``"num_batches_tracked"`` (),
        int64.

    Raises
    ------
    ValueError
        If an argument is out of range; from `forward`, for an input of another layout or
        channel count, or with one value per channel in training.
    TypeError
        If ``dtype`` is not floating; from `forward`, for non-numeric input.

    See Also
    --------
    BatchNorm1D : the same for (N, C) and (N, C, L) input.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import BatchNorm2D
    >>> layer = BatchNorm2D(3)
    >>> x = np.random.default_rng(0).normal(5.0, 2.0, size=(4, 3, 8, 8))
    >>> out = layer.forward(x)
    >>> out.shape, out.std(axis=(0, 2, 3)).round(3).tolist()
    ((4, 3, 8, 8), [1.0, 1.0, 1.0])
    >>> bool(np.abs(out.mean(axis=(0, 2, 3))).max() < 1e-6)
    True
    >>> sorted(layer.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"
