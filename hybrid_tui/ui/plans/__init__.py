"""The plans screen and its list."""
