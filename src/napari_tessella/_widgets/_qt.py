"""Small Qt pieces of the dock widgets' layout (Qt itself is imported inside the functions)."""

from __future__ import annotations

import numpy as np


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


def _wrapping(label) -> None:
    """Make a QLabel wrap long text over the whole width it is given, without asking for
    more: Qt widens a wrapped label up to ~80 characters, which widened a dock past the
    width it took when shown and cut its fields off at the side."""
    from qtpy.QtWidgets import QSizePolicy

    label.setWordWrap(True)
    label.setMinimumWidth(120)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)


def _OnShow(callback):
    """A Qt event filter calling ``callback`` whenever the watched widget is shown."""
    from qtpy.QtCore import QEvent, QObject

    class Filter(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Show:
                callback()
            return False

    return Filter()


def _OnParentChange(callback):
    """A Qt event filter calling ``callback(parent)`` when the watched widget is given a new
    parent: its dock, or None when napari takes it out (the dock's × destroys the dock)."""
    from qtpy.QtCore import QEvent, QObject

    class Filter(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.ParentChange:
                callback(obj.parent())
            return False

    return Filter()


def _share_dock_height(widget) -> None:
    """Once a plugin widget is first shown docked under others of this plugin, give each of
    them the height it needs, shrunk in proportion when they do not all fit (each scrolls)."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QDockWidget, QMainWindow, QWidget

    dock = widget.parentWidget()
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    window = dock.parentWidget() if dock is not None else None
    if not isinstance(window, QMainWindow):
        return
    area = window.dockWidgetArea(dock)
    docks = [d for d in window.findChildren(QDockWidget)
             if d.isVisible() and not d.isFloating() and window.dockWidgetArea(d) == area
             and not window.tabifiedDockWidgets(d)
             and any(w.property("tessella") for w in d.findChildren(QWidget))]
    if len(docks) < 2:
        return
    heights = [d.widget().sizeHint().height() + 30 for d in docks]
    window.resizeDocks(docks, heights, Qt.Orientation.Vertical)


def _qt_viewer(viewer):
    """The viewer's Qt view, read without napari's FutureWarning about private access.

    Both uses below are optional speed-ups that do nothing when the attribute is gone; the
    warning would otherwise be printed in the user's terminal at every Run."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        return viewer.window._qt_viewer


def _hold_canvas(viewer):
    """Stop the viewer's canvas from repainting until the returned function is called.

    Run writes its layers one per event-loop turn, so that the UI answers between them; the
    canvas would otherwise repaint everything shown at each turn (image, points and the
    layers written so far: 0.3–1 s each under software OpenGL with 100,000 points), for
    layers not yet visible. Held, it paints once, with all of them. The release function
    may be called more than once; without a Qt canvas (or another napari) nothing is held.
    """
    try:
        native = _qt_viewer(viewer).canvas.native
        if not native.updatesEnabled():  # held already (a nested run)
            return lambda: None
        native.setUpdatesEnabled(False)
    except (AttributeError, RuntimeError):
        return lambda: None

    def release():
        try:
            if not native.updatesEnabled():
                native.setUpdatesEnabled(True)  # Qt repaints it then
                native.update()
        except RuntimeError:  # the viewer was closed meanwhile
            pass

    return release


def _wireframe_on_demand(viewer, layer) -> None:
    """Detach vispy's wireframe filter from a Surface layer's visual while its wireframe
    is hidden (napari's default), attached again when it is shown.

    napari attaches the filter to every Surface, and on every change of data the filter
    builds a float64 barycentric array of 9 numbers per triangle and uploads it, even with
    the wireframe off: for the lattice's meshes of 300,000 triangles each, 0.05-0.15 s of
    CPU per mesh and paint under software OpenGL. Any other layer, or another napari
    without these internals: nothing is done."""
    try:
        node = _qt_viewer(viewer).layer_to_visual[layer].node
        wire = node.wireframe_filter
        shown = layer.wireframe.events.visible
    except (AttributeError, KeyError, RuntimeError, TypeError):
        return

    def follow(_event=None):
        try:
            if layer.wireframe.visible and not wire.attached:
                node.attach(wire)
                wire._update_data()  # its barycentric array, now needed
                node.update()
            elif not layer.wireframe.visible and wire.attached:
                node.detach(wire)
        except (AttributeError, RuntimeError, ValueError):
            pass

    shown.connect(follow)
    follow()


#: A run shows its progress bar and stage text only once it has taken this long (ms).
PROGRESS_DELAY_MS = 1000


class _LateProgress:
    """A run's progress bar and stage text, shown only once the run has taken
    :data:`PROGRESS_DELAY_MS`. Every change of the dock (a stage's text, the bar shown, then
    hidden) makes Qt repaint the viewer's whole window, which it composes with the canvas
    through OpenGL: 15-20 ms of CPU each under software OpenGL, taken from the run itself (a
    re-run of 100,000 lattice points paid four, 0.1 s of its 1 s). A run done sooner goes
    from Run to its result with no bar; the stages are kept and shown with the bar."""

    def __init__(self, progress, status):
        from qtpy.QtCore import QTimer

        self._progress, self._status = progress, status
        self._timer = QTimer(status.native)  # goes with the dock: never fires after it
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.show)
        self.text, self.shown = "", False

    def start(self, label: str, stages: int) -> None:
        """A run begins: ``label`` names it, in ``stages`` steps (0: a busy indicator)."""
        bar = self._progress
        bar.max, bar.value, bar.label = max(stages, 1) if stages else 0, 0, label  # hidden
        self.text, self.shown = f"{label}…", False
        self._timer.start(PROGRESS_DELAY_MS)

    def stage(self, text: str) -> None:
        bar = self._progress
        if bar.max:
            bar.value = min(bar.value + 1, bar.max)
        self.text = text
        if self.shown:
            self._status.value = text

    def show(self) -> None:
        self.shown = True
        try:
            self._status.value = self.text
            self._progress.visible = True
        except RuntimeError:  # the viewer was closed during the run: its widgets are gone
            pass

    def stop(self, hide: bool = False) -> None:
        """Nothing more to show: the run failed or was cancelled; with ``hide``, it ended (a
        run still writing its layers after the delay shows the bar until then)."""
        try:
            self._timer.stop()
            if hide:
                self._progress.visible = False
        except RuntimeError:  # deleted with the dock
            pass


_BAR_CSS = "border-radius: 2px; min-height: 10px; max-height: 10px;"


def _rgb(colour) -> str:
    r, g, b = colour[:3]
    return f"rgb({r * 255:.0f},{g * 255:.0f},{b * 255:.0f})"


def _gradient_css(colormap: str) -> str:
    """A Qt style sheet drawing ``colormap`` left to right (a colour bar)."""
    from napari.utils.colormaps import ensure_colormap

    at = np.linspace(0, 1, 9)
    stops = ", ".join(f"stop:{t:.2f} {_rgb(c)}"
                      for t, c in zip(at, ensure_colormap(colormap).map(at), strict=True))
    return f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops}); {_BAR_CSS}"


def _solid_css(colormap: str, at: float = 0.5) -> str:
    """A colour bar of one colour: ``colormap`` at ``at`` (a legend over one value)."""
    from napari.utils.colormaps import ensure_colormap

    return f"background: {_rgb(ensure_colormap(colormap).map(np.array([at]))[0])}; {_BAR_CSS}"


def _names_now(container) -> None:
    """Give every layer in the ComboBoxes of ``container`` its current name.

    magicgui matches a box's items to its new choices by their text: an item still under
    a renamed layer's old name was dropped (the box then chose its first layer), or given
    to a new layer of that old name (which then took the renamed layer's place)."""
    from magicgui.widgets import ComboBox, Container

    for widget in container:
        if isinstance(widget, Container):
            _names_now(widget)
        elif isinstance(widget, ComboBox):
            box = widget.native
            for i in range(box.count()):
                name = getattr(box.itemData(i), "name", None)
                if isinstance(name, str) and box.itemText(i) != name:
                    box.setItemText(i, name)
