"""The screens, one per module: plans, spec, run, review (and the confirm dialog).

Nothing is imported here: each screen is imported where it is opened, so that start-up only
pays for the first one (the plans screen).
"""
