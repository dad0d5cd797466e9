"""Runs engagements on their schedules (APScheduler 3, persistent job store)."""
