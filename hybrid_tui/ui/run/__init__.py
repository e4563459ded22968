"""The run screen."""
