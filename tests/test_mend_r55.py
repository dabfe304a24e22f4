"""Round 55's mends found by running the property tests under another seed."""

import numpy as np
import pytest

from napari_tessella import lattice_analysis as la


@pytest.mark.parametrize("func", [la.coordination_numbers, la.basis_vectors])
def test_points_spread_past_the_floats_are_refused_in_one_sentence(func):
    """A point 1e300 from the others: the first shell's squared radius overflowed in the
    KD-tree, whose own message leaked (fails on the round's base for
    ``coordination_numbers``)."""
    pts = np.array([[1e300, 2.0], [8.0, 2.0], [2.0, 8.0], [8.0, 8.0]])
    with pytest.raises(ValueError, match="other units"):
        func(pts, tolerance=0.25)
