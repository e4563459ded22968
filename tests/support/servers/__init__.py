"""Scripted model servers on 127.0.0.1 that the real agent CLIs talk to in end-to-end tests."""
