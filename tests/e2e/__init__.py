"""End-to-end tests that drive the real agent CLIs offline against scripted servers."""
