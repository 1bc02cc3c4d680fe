"""Composition root: wires settings, storage, NLU, dialogue and channels into commands."""
