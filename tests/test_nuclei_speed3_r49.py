"""Round 49 (speed3): the diameter estimate's work done once; each helper against the
step it replaces, exactly."""

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
from hypothesis import given, settings
from scipy import ndimage as ndi

from napari_tessella._label_image import _widened
from napari_tessella.nuclei import _holes


@settings(deadline=None, max_examples=300)
@given(hnp.arrays(bool, st.tuples(st.integers(2, 24), st.integers(2, 24))))
def test_piece_radius_from_the_whole_transform(mask):
    """``_holes._piece_radius`` read from the whole mask's transform is the piece's own
    transform's maximum in its box widened by one, bit for bit, for every 8-connected
    piece (other pieces inside the box included)."""
    pieces = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))[0]
    dist = ndi.distance_transform_edt(mask)
    for j, box in enumerate(ndi.find_objects(pieces), start=1):
        box = _widened(box, 1, mask.shape)
        own = pieces[box] == j
        assert _holes._piece_radius(own, dist[box]) == _holes._piece_radius(own)
        assert _holes._piece_radius(own) == float(ndi.distance_transform_edt(own).max())


def _ring_field():
    """Rings (nuclei with a dark nucleolus, wide or narrow), touching pairs and specks."""
    rng = np.random.default_rng(7)
    rr, cc = np.mgrid[:90, :120]
    mask = np.zeros((90, 120), dtype=bool)
    for r, c, outer, inner in [(20, 20, 12, 7), (20, 50, 10, 2), (60, 30, 14, 9),
                               (60, 62, 9, 4), (30, 95, 13, 6), (72, 100, 8, 0)]:
        d2 = (rr - r) ** 2 + (cc - c) ** 2
        mask |= (d2 <= outer ** 2) & (d2 > inner ** 2)
    mask |= rng.random(mask.shape) < 0.01
    return mask


def test_nucleoli_filled_the_same_with_the_transform():
    """``_nucleoli_filled`` given the mask's transform fills the same holes as without."""
    mask = _ring_field()
    foreground = ndi.binary_dilation(mask, iterations=2) | ndi.binary_fill_holes(mask)
    plain = _holes._nucleoli_filled(mask, foreground)
    given_dist = _holes._nucleoli_filled(mask, foreground, None,
                                         ndi.distance_transform_edt(mask))
    assert plain is not mask  # some hole filled: the rims were read
    np.testing.assert_array_equal(given_dist, plain)


def test_bodies_measured_below_the_cut_the_foci_were_read_at(monkeypatch):
    """The estimate measured again below its cut (``._bodies``) takes the noise, cut and
    background of the measurement that read the foci, as the same steps find them again
    on the same image (they are not taken twice)."""
    from _benchmarks import benchmark

    from napari_tessella.nuclei import diameter as dm
    from napari_tessella.nuclei._foreground import _auto_threshold

    image, _ = benchmark("nuclei_cellline").make("mixed d28", 472)  # its foci are read
    calls = []
    plain = dm._radius_of

    def spy(small, *args, **kwargs):
        calls.append((small, args[3] if len(args) > 3 else kwargs.get("below")))
        return plain(small, *args, **kwargs)

    monkeypatch.setattr(dm, "_radius_of", spy)
    dm.estimate_object_diameter(image)
    lowered = [(small, low) for small, low in calls if low]
    assert lowered
    for small, (spread, cut, level) in lowered:
        assert spread == dm._lag_noise(small)
        _, again_cut, again_level = _auto_threshold(small, spread=spread)
        assert (cut, level) == (again_cut, again_level)
