"""Synthetic test images with known ground truth.

Used by the sample-data menu, the tests and the benchmarks: every generator returns the
image *and* the truth it was built from, so accuracy can be measured, not guessed.
"""

from ._lattice import SyntheticLattice, position_bound, synthetic_dumbbells, synthetic_lattice
from ._nuclei import SyntheticNuclei, synthetic_nuclei

__all__ = [
    "SyntheticLattice",
    "SyntheticNuclei",
    "position_bound",
    "synthetic_dumbbells",
    "synthetic_lattice",
    "synthetic_nuclei",
]
