"""Demo: the notes' worked example with its chain-rule trace, and an MLP on digits."""

from __future__ import annotations

import pathlib

import numpy as np

from gradstat.nn.layers.activations import ReLU, Sigmoid
from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.losses import CrossEntropy, HalfSquaredError
from gradstat.nn.optim.optimisers import SGD, Adam


def worked_example() -> Sequential:
    """The notes' 2-2-2 sigmoid network with its weights (errata.md), float64."""
    model = Sequential([Dense(2, 2, dtype="float64"), Sigmoid(), Dense(2, 2, dtype="float64"), Sigmoid()])
    model.layers[0].params["weight"][:] = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 / w3 w4
    model.layers[0].params["bias"][:] = 0.35  # b1
    model.layers[2].params["weight"][:] = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 / w7 w8
    model.layers[2].params["bias"][:] = 0.60  # b2
    return model


def run_demo(out_dir: pathlib.Path) -> None:
    """Print the worked example's trace; train an MLP on digits and plot its learning curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gradstat.datasets.images import load_digits_images

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    print("== The notes' worked example: backpropagation by hand ==")
    model = worked_example()
    x, target = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
    print(model.explain(x, target, lr=0.5))
    loss = HalfSquaredError()
    loss.forward(model.forward(x), target)
    model.backward(loss.backward())
    SGD(model, lr=0.5).step()
    print(
        f"E after one SGD step (biases updated too): {loss.forward(model.forward(x), target):.9f}"
        "  (0.291027774 with the biases held fixed, as in the notes)"
    )

    print("\n== An MLP on the digits (8×8 images, 10 classes) ==")
    images, labels = load_digits_images()
    X = images.reshape(len(images), -1)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[: len(X) * 3 // 4], order[len(X) * 3 // 4 :]
    X_train, X_test, y_train, y_test = X[train], X[test], labels[train], labels[test]
    mlp = Sequential(
        [Dense(64, 128, init="he_uniform", seed=0), ReLU(), Dense(128, 10, seed=1)], input_shape=(64,)
    )
    print(mlp.summary().to_string())
    mlp.fit(
        X_train,
        y_train,
        epochs=30,
        batch_size=32,
        loss=CrossEntropy(),
        optimiser=Adam(mlp, lr=0.003),
        validation_data=(X_test, y_test),
        rng=0,
    )
    h = mlp.history_
    print(f"test accuracy after {len(h['loss'])} epochs: {h['val_accuracy'][-1]:.4f}")
    mlp.save(out_dir / "digits_mlp.safetensors")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = np.arange(1, len(h["loss"]) + 1)
    ax1.plot(epochs, h["loss"], label="training")
    ax1.plot(epochs, h["val_loss"], label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    ax1.legend()
    ax2.plot(epochs, h["accuracy"], label="training")
    ax2.plot(epochs, h["val_accuracy"], label="test")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    ax2.legend()
    fig.tight_layout()
    path = out_dir / "nn_digits_learning_curve.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved {path}")
