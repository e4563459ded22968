"""Tests of the Textual app: Pilot-driven screens and their snapshots (__snapshots__/)."""
