"""The core: plans, specs, runs and git. Nothing here imports Textual."""
