"""The modal dialogs every screen uses: confirm, and the check approval."""
