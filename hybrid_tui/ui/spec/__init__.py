"""The spec screen."""
