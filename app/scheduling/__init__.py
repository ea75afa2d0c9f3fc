"""Helpers for scheduled jobs: run clocks and work "about a club's day"."""
