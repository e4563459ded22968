"""Reusable widgets of the hybrid-tui app."""
