"""hybrid-tui: Claude plans, a worker agent implements on an isolated git branch."""

__version__ = "0.1.0"
