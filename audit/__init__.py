"""Pricing engine and audit checks: expected quotes, findings, batch audit, metrics."""
