"""Training: one loop (``Trainer``), its callbacks, and the data checks it shares with ``Sequential``."""
