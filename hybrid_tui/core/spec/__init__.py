"""Stage 2, the spec: its format (`format`), its paths (`paths`) and risky checks
(`risky_commands`), and the plan-to-spec converter (`convert/`)."""
