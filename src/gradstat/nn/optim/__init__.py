"""Optimisers: the update rules that turn gradients into new weights."""
