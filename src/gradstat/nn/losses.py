"""Losses: ``forward(pred, target)`` → float, ``backward()`` → ∂loss/∂pred.

``reduction="sum"`` adds the per-sample losses; ``"mean"`` (default) divides by
the number of samples — every axis but the last counts as a sample axis, so
(batch, time, classes) logits average over batch × time, as PyTorch does.
``MSE`` follows ``torch.nn.MSELoss`` and averages over every element.
"""

from __future__ import annotations

import numpy as np

REDUCTIONS = ("mean", "sum")


class Loss:
    """Base class; subclasses set ``self._grad`` in ``forward``."""

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        self._grad: np.ndarray

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """∂loss/∂pred for the last ``forward``."""
        try:
            return self._grad
        except AttributeError:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()") from None

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.forward(pred, target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reduction={self.reduction!r})"

    def _samples(self, pred: np.ndarray) -> int:
        return int(np.prod(pred.shape[:-1])) if pred.ndim > 1 else 1


def _same_shape(pred: np.ndarray, target: np.ndarray, name: str) -> np.ndarray:
    target = np.asarray(target)
    if target.shape != pred.shape:
        raise ValueError(f"{name}: target shape {target.shape} differs from prediction {pred.shape}")
    return target.astype(pred.dtype, copy=False)


class HalfSquaredError(Loss):
    """The notes' total error E = ½ Σ (target − out)²;  ∂E/∂out = −(target − out).

    Summed over outputs; ``"mean"`` divides by the number of samples (rows), so
    one sample gives the notes' E with either reduction. (The worked example's E
    is 0.298371109; the notes' 0.29337 is a slip, see errata.md.)
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        target = _same_shape(pred, target, "HalfSquaredError")
        diff = pred - target
        scale = 1.0 if self.reduction == "sum" else 1.0 / self._samples(pred)
        self._grad = diff * scale  # ∂E/∂out = −(target − out)
        return float(0.5 * scale * np.vdot(diff, diff))


class MSE(Loss):
    """Mean squared error Σ (target − out)² / n over all n elements (``"sum"``: no division)."""

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        target = _same_shape(pred, target, "MSE")
        diff = pred - target
        scale = 1.0 if self.reduction == "sum" else 1.0 / max(diff.size, 1)
        self._grad = diff * (2.0 * scale)  # ∂/∂out = 2 (out − target) / n
        return float(scale * np.vdot(diff, diff))


class CrossEntropy(Loss):
    """Softmax cross-entropy on logits: L = −Σ_k y_k log softmax(z)_k;  ∂L/∂z = ŷ − y.

    ``target`` is either integer class labels with the shape of ``pred`` minus its
    last axis, or probabilities with the shape of ``pred`` (e.g. the notes'
    (0.99, 0.01)). Log-softmax is computed as z − max z − log Σ e^(z − max z),
    so the loss and the gradient stay finite for any finite logits.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        if pred.ndim < 1 or pred.shape[-1] < 1:
            raise ValueError(f"CrossEntropy: logits need a class axis, got shape {pred.shape}")
        target = np.asarray(target)
        n_classes = pred.shape[-1]
        z = pred - pred.max(axis=-1, keepdims=True)
        prob = np.exp(z)
        total = prob.sum(axis=-1, keepdims=True)
        log_total = np.log(total)  # log softmax(z)_k = z_k − log Σ_j e^(z_j)
        prob /= total  # ŷ = softmax(z)
        scale = 1.0 if self.reduction == "sum" else 1.0 / self._samples(pred)
        if target.shape == pred.shape[:-1]:
            labels = class_labels(target, n_classes).reshape(-1)
            rows = np.arange(labels.size)
            picked = z.reshape(-1, n_classes)[rows, labels]
            loss = log_total.sum() - picked.sum()  # −Σ_n log ŷ_n,label
            prob.reshape(-1, n_classes)[rows, labels] -= 1.0  # ŷ − y with one-hot y
            grad = prob
        elif target.shape == pred.shape:
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
