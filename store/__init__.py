"""Quotebot's persistence: work items, their events, findings and runs."""
