"""Tests whose subject is the command line: usage, messages, exit codes, what it prints."""
