"""Demo: the vanishing gradient made visible, and a briefly trained character model."""

from __future__ import annotations

import pathlib

import matplotlib
import numpy as np

from gradstat.datasets.text import load_text
from gradstat.nn.inspection.vanishing import gradient_by_lag, plot_gradient_by_lag
from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.recurrent import LSTM, RNN
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.models.charmodel import CharModel


def run_demo(out_dir: pathlib.Path) -> None:
    """Print and plot ‖∂L_T/∂h_k‖ by lag for an RNN and an LSTM; sample a char model."""
    matplotlib.use("Agg")  # files only: switched when the demo runs, never on import

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 60, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    frames = {
        "RNN": gradient_by_lag(Sequential([RNN(4, 32, seed=0), Dense(32, 3, seed=1)]), x, y),
        "LSTM": gradient_by_lag(
            Sequential([LSTM(4, 32, forget_bias=1.0, seed=0), Dense(32, 3, seed=1)]), x, y
        ),
    }
    table = frames["RNN"][["lag", "grad_norm", "bound"]].rename(
        columns={"grad_norm": "RNN ‖∂L_T/∂h_k‖", "bound": "RNN bound"}
    )
    table["LSTM ‖∂L_T/∂h_k‖"] = frames["LSTM"]["grad_norm"].to_numpy()
    print("Vanishing gradient: norm of ∂L_T/∂h_k by lag T − k (random inputs, T = 60)")
    print(table.iloc[::-10].to_string(index=False, float_format="{:.3g}".format))
    fig = plot_gradient_by_lag(frames)
    path = out_dir / "vanishing_gradient.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"saved {path}")

    text = load_text("shakespeare")[:40_000]
    model = CharModel(arch="lstm", hidden_size=64, embedding_dim=16, lr=1e-2, epochs=2, seed=0)
    model.fit(text, verbose=0)
    print(
        f"\nCharacter LSTM on {len(text):,} characters of Shakespeare, "
        f"{model.epochs} epochs of truncated BPTT:"
    )
    print(model.history_.to_string(index=False))
    print("Sampled at temperature 0.8:")
    print(model.sample(240, temperature=0.8, prime="Hamlet:\n", seed=1))
