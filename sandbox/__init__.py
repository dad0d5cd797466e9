"""Simulated client portals that bots are tested and demonstrated against."""
