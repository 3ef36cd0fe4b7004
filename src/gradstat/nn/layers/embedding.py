"""Embedding: token ids → learned vectors, a row gather instead of a one-hot GEMM."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer, Shape


class Embedding(Layer):
    """``out[..., :] = W[id]``, W of shape (num_embeddings, dim) as ``torch.nn.Embedding``.

    Equivalent to one-hot(id) @ W; the backward pass scatters: ∂E/∂W[v] = Σ_{id = v} ∂E/∂out.
    Ids have any shape; the output appends the axis ``dim``. Ids carry no gradient.
    """

    def __init__(
        self,
        num_embeddings: int,
        dim: int,
        *,
        dtype: str | type = "float32",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("dim", dim)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Embedding {name} must be a positive integer, got {value!r}")
        self.num_embeddings, self.dim, self.seed = int(num_embeddings), int(dim), seed
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"Embedding dtype must be a floating type, got {self.dtype}")
        rng = np.random.default_rng(seed)
        self.params["weight"] = rng.standard_normal((num_embeddings, dim)).astype(self.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        ids = np.asarray(x)
        if ids.dtype.kind not in "iu":
            if ids.dtype.kind != "f" or not np.all(ids == np.round(ids)):
                raise TypeError(f"Embedding expects integer token ids, got dtype {ids.dtype}")
            ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids[(ids < 0) | (ids >= self.num_embeddings)].ravel()[0]
            raise ValueError(
                f"Embedding: token id {bad} is outside the vocabulary 0..{self.num_embeddings - 1}"
            )
        self._ids = ids
        return self.params["weight"][ids]  # out = W[id]

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """∂E/∂W[v] = Σ over positions holding v of ∂E/∂out; ids get no gradient (empty)."""
        g = np.asarray(grad_output).reshape(-1, self.dim)
        dw = self.grad_buffer("weight")
        dw[...] = 0
        np.add.at(dw, self._ids.reshape(-1), g)
        return np.empty(0, dtype=self.dtype)

    def output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape, self.dim)

    def config(self) -> dict[str, Any]:
        return {
            "num_embeddings": self.num_embeddings,
            "dim": self.dim,
            "dtype": self.dtype.name,
            "seed": self.seed,
        }
