"""The people's pages: review queue, runs and schedule, manager dashboard."""
