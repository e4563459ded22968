"""Stage 5, the review: the review session (`session`), the scope check, Claude's review
and the pull request."""
