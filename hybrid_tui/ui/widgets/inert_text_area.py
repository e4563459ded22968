"""`InertTextArea`: a `TextArea` whose text never holds a raw control character.

The editors (the spec, a revision note) start from outside text made inert by their screens
(`core.inert`: ESC shown as `\\x1b`, and that text is what runs); typing cannot insert a
control character, but a paste can: pasted text is made inert the same way, so nothing pasted
from a hostile page reaches the terminal raw either. Tab and newline keep their meaning.
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

from hybrid_tui.core.inert import inert


class InertTextArea(TextArea):
    async def _on_paste(self, event: events.Paste) -> None:
        event.text = inert(event.text)
        await super()._on_paste(event)
