"""Tests of the Textual-free core and of the agents (hybrid_tui/core, hybrid_tui/agents)."""
