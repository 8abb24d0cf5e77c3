"""The footer of every screen: the function keys of what can be done now, in the
operator's language.

Textual's Footer shows each binding's description as written; ours are translation keys
(``key_sync``), so this subclass looks each one up in ``kiosk.i18n`` at compose time and
is recomposed when the language changes.
"""

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # the Footer's own key widget; no public alias

from kiosk.i18n import t


class KeyBar(Footer):
    def __init__(self) -> None:
        super().__init__(show_command_palette=False, compact=True)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        seen: set[str] = set()
        keys = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                keys.append(FooterKey(binding.key, self.app.get_key_display(binding),
                                      t(binding.description, self.app.lang), binding.action, disabled=not enabled))
        self.styles.grid_size_columns = max(1, len(keys))
        yield from keys
