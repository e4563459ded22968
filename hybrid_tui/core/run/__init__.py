"""Stage 3, the run: dispatch and the one execution path (`dispatch`), confinement
(`confine`), the repo guard, recovery after a crash, revisions and the kept branch tips."""
