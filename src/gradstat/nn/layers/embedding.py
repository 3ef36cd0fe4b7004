"""Embedding: token ids → learned vectors, a row gather instead of a one-hot GEMM."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer, Shape


class Embedding(Layer):
    """A learned vector per token id: a row lookup in a weight table.

    Forward: out[..., :] = W[id], the same as one-hot(id) @ W without building the
    one-hot matrix. Backward: the rows are scattered back, ∂E/∂W[v] = Σ over the positions
    holding id v of ∂E/∂out there; rows of unseen ids get 0. Ids are discrete and carry no
    gradient. Ids have any shape; the output appends the axis ``dim``.

    PyTorch: ``torch.nn.Embedding`` (its ``embedding_dim`` is ``dim`` here); the same
    ``weight`` name and layout, drawn from N(0, 1) as there.

    Parameters
    ----------
    num_embeddings : int
        The vocabulary size: ids run over 0 … num_embeddings − 1.
    dim : int
        Length of each vector.
    dtype : numpy dtype or str, default "float32"
        Floating type of the weight.
    seed : int or None, default None
        Seed of the N(0, 1) draw of the weight.

    Attributes
    ----------
    params : dict
        ``"weight"``, shape (num_embeddings, dim).

    Raises
    ------
    ValueError
        If a size is not a positive integer; from `forward`, for an id outside the
        vocabulary (the id named).
    TypeError
        If ``dtype`` is not floating; from `forward`, for ids that are not integers.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import Embedding
    >>> layer = Embedding(5, 3, seed=0)
    >>> out = layer.forward(np.array([[0, 4, 4]]))
    >>> out.shape
    (1, 3, 3)
    >>> _ = layer.backward(np.ones((1, 3, 3)))
    >>> layer.grads["weight"][:, 0].tolist()  # id 4 appeared twice
    [1.0, 0.0, 0.0, 0.0, 2.0]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

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
        """Fill ∂E/∂W[v] = Σ over the positions holding v of ∂E/∂out.

        Parameters
        ----------
        grad_output : numpy.ndarray
            ∂E/∂out, shape ``(*ids.shape, dim)``.
        input_grad : bool, default True
            Ignored: ids get no gradient.

        Returns
        -------
        numpy.ndarray
            An empty array.
        """
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
