"""The plugin's dock widgets, one module each, over a small base.

- :mod:`._base`: threads, status, parameters files, export, in-place output updates;
- :mod:`._layers`: reading the displayed plane, geometry, units, layer choices;
- :mod:`.threshold_label`, :mod:`.watershed`, :mod:`.lattice`, :mod:`.atoms`: one widget
  each, which reads layers, calls one core function and returns LayerDataTuples.
"""

from .atoms import FindAtomsWidget
from .lattice import LatticeWidget
from .threshold_label import ThresholdLabelWidget
from .watershed import SeededWatershedWidget

__all__ = ["FindAtomsWidget", "LatticeWidget", "SeededWatershedWidget", "ThresholdLabelWidget"]
