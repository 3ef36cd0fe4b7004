"""The adding problem at full size (lag T = 100): the LSTM solves it, the plain RNN does not.

    python docs/adding_problem.py      # writes docs/adding_problem.png and prints the curves

Each sequence holds T random numbers and two markers; the target is the sum of the two marked
numbers, scored at the last step only. Guessing the mean gives MSE 1/6 ≈ 0.167.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from gradstat.nn.models.tasks import adding_learning_curve

LENGTH = 100


def main() -> None:
    curves = {
        arch: adding_learning_curve(arch, length=LENGTH, steps=1500, seed=0) for arch in ("rnn", "lstm")
    }
    fig, ax = plt.subplots(figsize=(7, 4))
    for arch, curve in curves.items():
        print(f"{arch.upper()}:\n{curve.iloc[::3].to_string(index=False, float_format='{:.4f}'.format)}\n")
        ax.plot(curve["step"], curve["valid_mse"], label=f"{arch.upper()} (validation MSE)")
    ax.axhline(1 / 6, color="grey", linestyle="--", linewidth=1, label="guessing the mean (1/6)")
    ax.set(
        yscale="log",
        xlabel="training step (batch of 64)",
        ylabel="MSE",
        title=f"Adding problem, lag T = {LENGTH}",
    )
    ax.legend()
    path = Path(__file__).with_name("adding_problem.png")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
