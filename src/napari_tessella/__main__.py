"""``napari-tessella`` / ``python -m napari_tessella``: open napari ready to work.

``napari-tessella demo`` (the default) starts napari with the plugin's four widgets docked
and a generated HAADF-like lattice loaded, so the whole recipe can be tried with no data.
``napari-tessella watershed in/ --out res`` (and ``threshold-label``, ``lattice``,
``atoms``) runs the batch command line, as ``tessella watershed in/ --out res`` does.
"""

from __future__ import annotations

import argparse
import sys


def demo(image: str = "lattice", run: bool = False, viewer=None):
    """Dock the four widgets in a viewer (a new one by default) and open a sample image."""
    import napari

    if viewer is None:
        viewer = napari.Viewer(title="napari-tessella")
    sample = {"lattice": "synthetic_lattice", "nuclei": "synthetic_nuclei",
              "stem": "nbw_stem", "u2os": "u2os"}[image]
    viewer.open_sample("napari-tessella", sample)
    widgets = {}
    docks = []
    for name in ("Threshold & label", "Lattice & Voronoi", "Find atoms", "Seeded watershed"):
        # as tabs of one dock: each widget gets the full height of a small screen
        dock, widgets[name] = viewer.window.add_plugin_dock_widget("napari-tessella", name,
                                                                   tabify=bool(docks))
        docks.append(dock)
    docks[0].raise_()
    from qtpy.QtCore import Qt  # as wide as the widest of them, fields never cut off

    viewer.window._qt_window.resizeDocks([docks[0]], [440], Qt.Orientation.Horizontal)
    if run:
        widgets["Threshold & label"]()
        widgets["Lattice & Voronoi"]()
    # the tab to show first (the recipe's first step, or the lattice just drawn), once the
    # window is up: a tab raised before it is shown loses to the last one added
    from qtpy.QtCore import QTimer

    QTimer.singleShot(0, docks[1 if run else 0].raise_)
    return viewer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="napari-tessella", description=__doc__.splitlines()[0],
        epilog="The batch commands threshold-label, watershed, lattice and atoms run as the "
               "tessella command line runs them (napari-tessella watershed --help).")
    sub = parser.add_subparsers(dest="command")
    p_demo = sub.add_parser("demo", help="open napari with the widgets and a sample image")
    p_demo.add_argument("--image", choices=["lattice", "nuclei", "stem", "u2os"],
                        default="lattice", help="sample to load (stem/u2os download once)")
    p_demo.add_argument("--run", action="store_true",
                        help="also run Threshold & label and Lattice & Voronoi on it")
    argv = sys.argv[1:] if argv is None else list(argv)
    batch = ("threshold-label", "watershed", "lattice", "atoms")
    if argv and argv[0] in batch:
        # the batch commands, run as `tessella` runs them: `python -m napari_tessella
        # watershed in/` was refused, pointing to a `tessella` script that is not on the
        # PATH of a notebook's kernel or of a virtual environment not activated
        from .cli import main as batch_main

        return batch_main(argv)
    args = parser.parse_args(argv)
    if args.command in (None, "demo"):
        import napari

        demo(getattr(args, "image", "lattice"), getattr(args, "run", False))
        napari.run()
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
