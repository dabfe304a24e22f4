"""A widget's files: its output layers exported (TIFF and CSV, tables of edited labels
measured again) and its parameters saved to and loaded from the JSON files the
``tessella`` command line reads (:class:`_WritesFiles`, a part of every dock widget)."""

from __future__ import annotations

from pathlib import Path

from .._validation import os_error_text
from ..measure import MEASURE_COLUMNS
from ..params import check_values, load_parameters, save_parameters
from ._errors import _USER_ERRORS
from ._export import export_layers, measured_again, not_a_folder
from ._layers import _labels_features, _layer_key
from ._outputs import _data_edited, _features_digest, _placed_since


class _WritesFiles:
    """Export & parameters of a :class:`._base._DockWidget` (its ``_outputs``, ``_viewer``,
    ``_status``, ``_operation`` and ``_report_error``)."""

    # --- parameters files (the same files ``tessella --params`` reads)
    def parameters(self) -> dict:
        """The core function's keyword arguments the widget is set to."""
        raise NotImplementedError

    def set_parameters(self, params: dict) -> None:
        """Set the widget's controls from core keyword arguments."""
        raise NotImplementedError

    def save_parameters(self, path) -> Path | None:
        """Write the current parameters to a JSON file the command line can use."""
        try:
            written = save_parameters(path, self._operation, self.parameters())
        except (*_USER_ERRORS, OSError) as err:
            self._report_error(ValueError(str(err)))
            return None
        self._status.value = f"parameters saved to {written}"
        return written

    def load_parameters(self, path) -> dict | None:
        """Set the controls from a parameters file (saved here or written by hand)."""
        try:
            operation, params = load_parameters(path)
            if operation != self._operation:
                raise ValueError(f"{path} holds parameters for {operation!r}, not "
                                 f"{self._operation!r}.")
            check_values(operation, params)  # as the command line: before any field moves
            self.set_parameters(params)
        except (*_USER_ERRORS, OSError) as err:
            self._report_error(ValueError(str(err)))
            return None
        self._status.value = f"parameters loaded from {path}"
        return params

    # --- export
    def _written_layers(self) -> list:
        """This widget's output layers still in the viewer, for every input it ran on."""
        return [out.layer for out in self._outputs.values() if out.layer in self._viewer.layers]

    def _edited_tables(self, layers) -> tuple[dict, list[str]]:
        """Tables of the Labels outputs the user edited, measured again on their input
        image (and shown on hover too), or None where that cannot be done; what was done
        for each, said in the status line."""
        tables, notes = {}, []
        inputs = {_layer_key(layer): layer for layer in self._viewer.layers}
        for (key, _role), record in self._outputs.items():
            layer = record.layer
            if (not _data_edited(record) or layer not in layers or layer._type_string != "labels"
                    or not set(MEASURE_COLUMNS) <= set(layer.features.columns)):
                continue  # (a lattice's pixel map: its cells' table is the points')
            table = measured_again(layer, inputs.get(key))
            tables[id(layer)] = table
            if table is None:
                notes.append(f"{layer.name!r} was edited: its table was not measured again "
                             "(its image is gone or not of its shape), not written")
                continue
            self._writing = True
            try:
                layer.features = _labels_features(table)
                record.retabled = _features_digest(layer)
            finally:
                self._writing = False
            notes.append(f"{layer.name!r} was edited: its table measured again")
        return tables, notes

    def export(self, folder) -> list[Path]:
        """Write this widget's output layers into ``folder``: Labels as TIFF, tables as CSV.

        Labels with a per-object table also get it as CSV; Points are written with their
        coordinates and features, Shapes with their features; physical-unit columns are
        added from the layer's scale.
        """
        from napari.utils.notifications import show_info

        folder = Path(folder)
        if getattr(self, "_stepping", False):  # half the layers new, half the last run's
            self._report_error(ValueError(
                "a run is writing its layers into the viewer: export once it is done "
                "(nothing was exported)."))
            return []
        layers = self._written_layers()
        if not layers:
            gone = [out.layer.name for out in self._outputs.values() if out.layer is not None]
            self._report_error(ValueError(
                "nothing to export yet: run the widget first." if not gone else
                "nothing to export: the layers its runs wrote ("
                + ", ".join(repr(name) for name in gone[:3]) + (", …" if len(gone) > 3 else "")
                + ") are no longer in the viewer: run the widget again."))
            return []
        try:
            tables, notes = self._edited_tables(layers)
            written, suffix = export_layers(layers, folder, tables)
            if suffix:
                notes.append(f"files of an earlier export there are kept: these end in "
                             f"'{suffix}'")
            notes += _placed_since(self._outputs, self._viewer.layers, layers)
        except Exception as err:  # a folder not writable, a layer a writer refuses
            why = not_a_folder(folder) or os_error_text(err)
            self._report_error(ValueError(f"cannot export to {folder}: {why}"))
            return []
        message = f"exported {len(written)} file(s) to {folder}" + "".join(
            f"; {note}" for note in notes)
        self._status.value = message
        show_info(message)
        return written
