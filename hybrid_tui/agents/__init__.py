"""Agent CLIs: argv builders, the process runner and the stream parsers. No Textual here."""
