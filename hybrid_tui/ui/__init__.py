"""The Textual front end: app, screens, widgets and themes. Only this package imports Textual."""
