"""Stage 6, landing: accept or reject (`accept`), the merge preflight and rebase
(`merge`), partial accept (`partial`, over the hunk model in `hunks`)."""
