"""Plumbing with no quotebot knowledge that every package may use, the sandbox included."""
