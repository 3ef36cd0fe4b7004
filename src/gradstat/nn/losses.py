"""Losses: ``forward(pred, target)`` → float, ``backward()`` → ∂loss/∂pred.

``reduction="sum"`` adds the per-sample losses; ``"mean"`` (default) divides by
the number of samples — every axis but the last counts as a sample axis, so
(batch, time, classes) logits average over batch × time, as PyTorch does.
``MSE`` follows ``torch.nn.MSELoss`` and averages over every element.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from gradstat.nn.layers.base import row_order, undo_order

REDUCTIONS = ("mean", "sum")


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _shift_by_row_max(z, labels, shifted):
    """shifted = z − max z, row by row; returns Σ_n (z − max z)_n,label (of the picked classes)."""
    picked = 0.0
    for n in range(z.shape[0]):
        row, out = z[n], shifted[n]
        m = row[0]
        for j in range(1, row.size):
            v = row[j]
            m = v if v > m else m  # (2.5× the builtin max) a NaN makes its row NaN below
        for j in range(row.size):
            out[j] = row[j] - m
        picked += out[labels[n]]
    return picked


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _normalise_rows(prob, labels, scale):
    """e^(z − max z) → scale (ŷ − y) in place, y one-hot; returns Σ_n log Σ_k e^(z − max z)_nk.

    Each row's total is summed in float64; ``reassoc`` lets that sum be vectorised.
    """
    log_totals = 0.0
    for n in range(prob.shape[0]):
        row = prob[n]
        total = 0.0
        for j in range(row.size):
            total += row[j]
        factor = scale / total
        for j in range(row.size):
            row[j] = row[j] * factor  # scale ŷ
        row[labels[n]] -= scale  # − scale y
        log_totals += math.log(total)
    return log_totals


class Loss:
    """Base class of the losses: ``forward(pred, target)`` gives E, ``backward()`` gives ∂E/∂pred.

    A loss is the start of the backward pass: ``model.backward(loss.backward())``. A
    subclass computes E and ∂E/∂pred together in `forward` (storing the gradient in
    ``self._grad``), so `backward` only hands it over. Calling the loss is `forward`.

    PyTorch: ``torch.nn.modules.loss._Loss``; the same ``reduction`` values.

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        ``"sum"`` adds the per-sample losses; ``"mean"`` divides by the number of
        samples (every axis of ``pred`` but the last is a sample axis; `MSE` counts
        every element).

    Raises
    ------
    ValueError
        If ``reduction`` is unknown; from `forward`, for a target that does not fit the prediction.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import MSE
    >>> loss = MSE()
    >>> loss(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))  # forward
    2.5
    >>> loss.backward().tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        self._grad: np.ndarray

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        """The loss E of ``pred`` against ``target``; keeps ∂E/∂pred for `backward`.

        Parameters
        ----------
        pred : numpy.ndarray
            The model's output (logits for `CrossEntropy`).
        target : numpy.ndarray
            What it should have been (each loss says which shapes it takes).

        Returns
        -------
        float
            E, reduced by ``reduction``.
        """
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """∂E/∂pred for the last `forward`: the gradient that starts the backward pass.

        Returns
        -------
        numpy.ndarray
            The shape and dtype of the last ``pred``.

        Raises
        ------
        RuntimeError
            If called before `forward`.
        """
        try:
            return self._grad
        except AttributeError:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()") from None

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.forward(pred, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"

    def _samples(self, pred: np.ndarray) -> int:
        return math.prod(pred.shape[:-1]) if pred.ndim > 1 else 1


def _same_shape(pred: np.ndarray, target: np.ndarray, name: str) -> np.ndarray:
    target = np.asarray(target)
    if target.shape != pred.shape:
        raise ValueError(f"{name}: target shape {target.shape} differs from prediction {pred.shape}")
    return target.astype(pred.dtype, copy=False)


class HalfSquaredError(Loss):
    """The notes' total error: half the squared error, summed over the outputs.

    Forward: E = ½ Σ_k (target_k − out_k)² per sample. Backward:
    ∂E/∂out = −(target − out) = out − target, the factor (1) of the notes' chain rule.
    ``"mean"`` divides by the number of samples (rows), so one sample gives the notes' E
    with either reduction. (The worked example's E is 0.298371109; the notes' 0.29337 is a
    slip, see the errata.)

    PyTorch: no class; ``0.5 * torch.nn.MSELoss(reduction="sum")`` per sample.

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        ``"sum"`` adds the samples' errors; ``"mean"`` divides by the number of samples.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown; from `forward`, if ``target``'s shape differs from ``pred``'s.

    See Also
    --------
    MSE : the mean over every element, without the ½.

    Examples
    --------
    The outputs of the notes' worked example:

    >>> import numpy as np
    >>> from gradstat.nn import HalfSquaredError
    >>> loss = HalfSquaredError()
    >>> out = np.array([[0.751365070, 0.772928465]])
    >>> round(loss(out, np.array([[0.01, 0.99]])), 6)
    0.298371
    >>> loss.backward().round(6).tolist()  # out − target
    [[0.741365, -0.217072]]
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        target = _same_shape(pred, target, "HalfSquaredError")
        diff = pred - target
        scale = 1.0 if self.reduction == "sum" else 1.0 / self._samples(pred)
        self._grad = diff * scale  # ∂E/∂out = −(target − out)
        return float(0.5 * scale * np.vdot(diff, diff))


class MSE(Loss):
    """The mean squared error over every element.

    Forward: E = Σ (target − out)² / n over all n elements of ``pred`` (``"sum"``: no
    division). Backward: ∂E/∂out = 2 (out − target) / n.

    PyTorch: ``torch.nn.MSELoss``; the same reductions.

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        ``"mean"`` divides by the number of elements; ``"sum"`` does not.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown; from `forward`, if ``target``'s shape differs from ``pred``'s.

    See Also
    --------
    HalfSquaredError : the notes' ½ Σ (target − out)².

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import MSE
    >>> loss = MSE()
    >>> loss(np.array([1.0, 2.0]), np.array([0.0, 0.0]))  # (1 + 4) / 2
    2.5
    >>> loss.backward().tolist()  # 2 (out − target) / 2
    [1.0, 2.0]
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        target = _same_shape(pred, target, "MSE")
        diff = pred - target
        scale = 1.0 if self.reduction == "sum" else 1.0 / max(diff.size, 1)
        self._grad = diff * (2.0 * scale)  # ∂/∂out = 2 (out − target) / n
        return float(scale * np.vdot(diff, diff))


class CrossEntropy(Loss):
    """Softmax cross-entropy on logits, the multi-class loss of the notes.

    Forward: ŷ = softmax(z) over the last axis and L = −y' log ŷ = −Σ_k y_k log ŷ_k per
    sample, y one-hot for a label. Backward: softmax and the logarithm combine to
    ∂L/∂z = ŷ − y (in general ŷ Σ_k y_k − y). log ŷ is computed as
    z − max z − log Σ e^(z − max z), so the loss and the gradient stay finite for any
    finite logits. Over time steps, (batch, time, classes) logits give the notes'
    L_total = Σ_t L_t (``"sum"``) or its mean over batch × time.

    PyTorch: ``torch.nn.CrossEntropyLoss`` with the classes on the last axis; the same
    reductions, labels or probabilities as targets.

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        ``"mean"`` divides by the number of samples (batch × time …); ``"sum"`` does not.

    Raises
    ------
    ValueError
        If ``reduction`` is unknown; from `forward`, for labels outside 0 … classes − 1,
        non-integral labels, negative or non-finite probabilities, or a target shape that
        fits neither form.

    See Also
    --------
    Softmax : the probabilities as a layer.

    Examples
    --------
    ``target`` is integer labels with ``pred``'s shape minus its last axis, or
    probabilities with ``pred``'s shape (the notes' y = (0.99, 0.01)):

    >>> import numpy as np
    >>> from gradstat.nn import CrossEntropy
    >>> loss = CrossEntropy()
    >>> z = np.array([[0.0, np.log(3.0)]])  # ŷ = (0.25, 0.75)
    >>> round(loss(z, np.array([1])), 4)  # −log 0.75
    0.2877
    >>> loss.backward().round(4).tolist()  # ŷ − y
    [[0.25, -0.25]]
    >>> round(loss(z, np.array([[0.99, 0.01]])), 4)  # −0.99 log 0.25 − 0.01 log 0.75
    1.3753
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        if pred.ndim < 1 or pred.shape[-1] < 1:
            raise ValueError(f"CrossEntropy: logits need a class axis, got shape {pred.shape}")
        target = np.asarray(target)
        n_classes = pred.shape[-1]
        scale = 1.0 if self.reduction == "sum" else 1.0 / self._samples(pred)
        if target.shape == pred.shape[:-1]:
            # the rows in the order they lie in memory (a time-major recurrent output seen
            # batch-first): no copy of the logits, and a gradient laid out as they are
            order = row_order(pred)
            z = np.ascontiguousarray(pred.transpose(order))
            labels = class_labels(target, n_classes).transpose(order[:-1]).reshape(-1)
            grad = np.empty(z.shape, z.dtype if z.dtype.kind == "f" else np.float64)
            flat = grad.reshape(-1, n_classes)
            # log ŷ_label = (z − max z)_label − log Σ_k e^(z − max z)_k, in three passes
            picked = _shift_by_row_max(z.reshape(-1, n_classes), labels, flat)
            np.exp(flat, out=flat)
            loss = _normalise_rows(flat, labels, scale) - picked  # −Σ_n log ŷ_n,label
            self._grad = grad.transpose(undo_order(order))  # scale (ŷ − y) with one-hot y
            return float(loss * scale)
        z = np.subtract(pred, pred.max(axis=-1, keepdims=True), order="C")
        prob = np.exp(z)
        total = prob.sum(axis=-1, keepdims=True)
        log_total = np.log(total)  # log softmax(z)_k = z_k − log Σ_j e^(z_j)
        prob /= total  # ŷ = softmax(z)
        if target.shape == pred.shape:
            if target.dtype.kind not in "fiub":
                raise ValueError(
                    f"CrossEntropy: probability targets must be numbers, got dtype {target.dtype}; "
                    f"expected class probabilities of the logits' shape {pred.shape} or integer labels "
                    f"of shape {pred.shape[:-1]}"
                )
            y = target.astype(pred.dtype, copy=False)
            if not np.all(np.isfinite(y)) or np.any(y < 0):
                raise ValueError("CrossEntropy: probability targets must be finite and ≥ 0")
            y_total = y.sum(axis=-1, keepdims=True)
            loss = np.vdot(y_total, log_total) - np.vdot(y, z)  # −Σ y log ŷ
            grad = prob * y_total - y  # ŷ Σ_k y_k − y (ŷ − y if Σ y = 1)
        else:
            raise ValueError(
                f"CrossEntropy: target shape {target.shape} fits neither labels "
                f"{pred.shape[:-1]} nor probabilities {pred.shape} for logits {pred.shape}"
            )
        if scale != 1.0:
            grad *= pred.dtype.type(scale)
        self._grad = grad
        return float(loss * scale)


def class_labels(target: np.ndarray, n_classes: int) -> np.ndarray:
    """``target`` as integer class labels in 0..n_classes − 1 (integral floats accepted), else ValueError."""
    expected = f"class labels as integers 0..{n_classes - 1}"
    if target.dtype.kind in "USO":
        raise ValueError(
            f"CrossEntropy: expected {expected}, got dtype {target.dtype} (strings or objects); "
            "encode the classes as integers first, e.g. with sklearn.preprocessing.LabelEncoder"
        )
    if target.dtype.kind not in "iu":
        if target.dtype.kind != "f":
            raise ValueError(f"CrossEntropy: expected {expected}, got dtype {target.dtype}")
        whole = np.isfinite(target) & (target == np.round(target))
        if not np.all(whole):
            bad = target[~whole].ravel()[0]
            raise ValueError(
                f"CrossEntropy: expected {expected}, got dtype {target.dtype} with the value {bad}; "
                "for soft targets give probabilities with the logits' shape"
            )
        target = target.astype(np.int64)
    if target.size and (target.min() < 0 or target.max() >= n_classes):
        bad = target[(target < 0) | (target >= n_classes)].ravel()[0]
        raise ValueError(f"CrossEntropy: label {bad} is outside the classes 0..{n_classes - 1} of the logits")
    return target
