"""Small Qt pieces of the dock widgets' layout (imported only when a widget is built)."""

from __future__ import annotations


def _fitting_scroll_area():
    """A scroll area that asks for the height its contents need: docked one under another,
    each widget then gets a fair share of the height (and scrolls within it)."""
    from qtpy.QtCore import QSize
    from qtpy.QtWidgets import QScrollArea

    class FittingScrollArea(QScrollArea):
        def sizeHint(self):
            inner = self.widget()
            if inner is None:
                return super().sizeHint()
            hint = inner.sizeHint()
            return QSize(hint.width() + self.verticalScrollBar().sizeHint().width(),
                         hint.height() + 2)

    return FittingScrollArea()


def _OnShow(callback):
    """A Qt event filter calling ``callback`` whenever the watched widget is shown."""
    from qtpy.QtCore import QEvent, QObject

    class Filter(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Show:
                callback()
            return False

    return Filter()
