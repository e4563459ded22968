"""The Textual front end. Only this package imports Textual.

- `app.py`: the app, and moving between screens; `theme.py`: the themes; `active_runs.py`:
  the attempts under way.
- One folder per screen, with the widgets only it uses: `plans/`, `spec/`, `run/`, `review/`.
- `dialogs/`: the modal dialogs (confirm, check approval); `widgets/`: widgets more than one
  screen uses (the event log, the inert text area).
"""
