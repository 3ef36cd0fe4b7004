"""scikit-learn-style estimators built on the layers: perceptrons and MLPs."""
