"""Demo: a small CNN learns the bundled 8×8 digits in a few seconds.

Prints the layer summary (shapes known before any data flows), the test accuracy
per epoch, and saves the learned filters, the feature maps of one test digit and
the learning curves as PNG files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gradstat.cli.train_images import load_data
from gradstat.nn.inspection.visualise import plot_feature_maps, plot_filters, plot_learning_curves
from gradstat.nn.losses import CrossEntropy
from gradstat.nn.models.architectures import lenet_small
from gradstat.nn.optim.optimisers import Adam


def run_demo(out_dir: Path, epochs: int = 12) -> None:
    """Train ``lenet_small`` on the 8×8 digits (seeded 80/20 split) and save the pictures."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_data("digits", seed=0)
    model = lenet_small(seed=0)
    print("A small CNN on the 8x8 digits")
    print(model.summary().to_string())
    model.fit(
        data.x_train,
        data.y_train,
        epochs=epochs,
        batch_size=64,
        validation_data=(data.x_test, data.y_test),
        loss=CrossEntropy(),
        optimiser=Adam(model, lr=0.002),
        rng=0,
        verbose=0,
    )
    for epoch, acc in enumerate(model.history_["val_accuracy"], start=1):
        print(f"epoch {epoch:2d}: test accuracy {acc:.4f}")
    predicted = model.predict(data.x_test).argmax(axis=1)
    print(f"test accuracy {np.mean(predicted == data.y_test):.4f} on {len(data.y_test)} held-out digits")
    figures = {
        "cnn_filters.png": plot_filters(model),
        "cnn_feature_maps.png": plot_feature_maps(model, data.x_test[0]),
        "cnn_learning_curves.png": plot_learning_curves(model.history_),
    }
    for name, fig in figures.items():
        fig.savefig(out_dir / name, dpi=100)
        print(f"saved {out_dir / name}")
