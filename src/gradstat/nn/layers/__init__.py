"""Layers: each one a forward pass and its hand-written backward pass, side by side."""
