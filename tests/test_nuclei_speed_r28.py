"""Round 28's exact speed-ups against the plain computations they replace: the seeded
watershed flooded only where two seeds meet (``_basins._flood``) and the disc maxima read
around the pixels that are at least their four neighbours (``_markers._disc_maxima_markers``)."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from napari_tessella.nuclei._basins import _flood
from napari_tessella.nuclei._markers import _disc_maxima_markers


def _case(rng, kind, shape):
    """A landscape, a mask and markers: ``kind`` 0 integer values (ties everywhere, the
    markers' values made distinct), 1 a smoothed field, 2 the distance of pairs of equal
    discs (symmetric ties, the markers' too), 3 integer values with tied markers."""
    h, w = shape
    if kind == 2:
        disc = np.zeros(shape, bool)
        yy, xx = np.ogrid[:h, :w]
        for _ in range(rng.integers(1, 6)):
            r, cy, cx = rng.integers(2, 6), rng.integers(0, h), rng.integers(0, w)
            disc |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            disc |= (yy - cy) ** 2 + (xx - cx - 2 * r) ** 2 <= r * r
        image, mask = -ndi.distance_transform_edt(disc), disc
    else:
        image = (rng.integers(0, 3, shape).astype(float) if kind in (0, 3)
                 else ndi.gaussian_filter(rng.random(shape), 1.5))
        mask = rng.random(shape) < 0.8
    markers = np.zeros(shape, np.int32)
    k = int(rng.integers(1, 25))
    at = rng.choice(h * w, min(k, h * w), replace=False)
    markers.flat[at] = rng.integers(1, 5, at.size) if rng.random() < 0.5 else np.arange(
        1, at.size + 1)
    if kind == 0:
        image.flat[at] = -rng.permutation(at.size) - 0.5
    return image, markers, mask


@pytest.mark.parametrize("connectivity", [1, 2])
@pytest.mark.parametrize("kind", [0, 1, 2, 3])
def test_flood_is_skimage_watershed(kind, connectivity):
    rng = np.random.default_rng(100 * kind + connectivity)
    for _ in range(150):
        shape = tuple(rng.integers(2, 45, 2))
        image, markers, mask = _case(rng, kind, shape)
        expected = watershed(image, markers, mask=mask, connectivity=connectivity)
        got = _flood(image, markers, mask, connectivity=connectivity)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
        # the components given, their ids not consecutive (as the recipe's are)
        structure = ndi.generate_binary_structure(2, connectivity)
        parts = ndi.label(mask, structure)[0] * 3
        np.testing.assert_array_equal(
            _flood(image, markers, mask, connectivity=connectivity, parts=parts), expected)


def _counting_watershed(monkeypatch):
    # the flood's watershed: skimage's, bit for bit (round 53: its kernel called directly)
    from napari_tessella.nuclei import _basins

    seen = []

    def counted(image, markers, *args, **kwargs):
        seen.append(image.shape)
        return watershed(image, markers, *args, **kwargs)

    monkeypatch.setattr(_basins, "_watershed", counted)
    return seen


def _two_parts():
    """A mask of two components (a small one and a larger one) and empty markers."""
    mask = np.zeros((30, 40), bool)
    mask[2:10, 3:12] = mask[15:28, 20:38] = True
    return mask, np.zeros(mask.shape, np.int32)


def test_flood_fills_a_component_of_one_seed_without_flooding(monkeypatch):
    seen = _counting_watershed(monkeypatch)
    mask, markers = _two_parts()
    markers[4, 5] = 7
    markers[20, 25] = markers[22, 30] = 2  # one id twice: still one seed
    image = np.random.default_rng(0).random(mask.shape)
    got = _flood(image, markers, mask)
    assert seen == []
    np.testing.assert_array_equal(got, watershed(image, markers, mask=mask))


def test_flood_floods_only_the_box_of_the_components_of_two_seeds(monkeypatch):
    seen = _counting_watershed(monkeypatch)
    mask, markers = _two_parts()
    markers[4, 5] = 1
    markers[20, 25], markers[24, 33] = 2, 3
    image = np.random.default_rng(1).random(mask.shape)
    got = _flood(image, markers, mask)
    assert seen == [(13, 18)]
    np.testing.assert_array_equal(got, watershed(image, markers, mask=mask))


def test_flood_takes_the_whole_image_when_two_seeds_tie(monkeypatch):
    """Two seed pixels of one value in a component (symmetric peaks): skimage pops them in
    an order its heap's layout decides, which the other components change."""
    seen = _counting_watershed(monkeypatch)
    mask, markers = _two_parts()
    markers[4, 5] = 1
    markers[20, 25], markers[20, 33] = 2, 3
    image = np.random.default_rng(2).random(mask.shape)
    image[20, 33] = image[20, 25]
    got = _flood(image, markers, mask)
    assert seen == [mask.shape]
    np.testing.assert_array_equal(got, watershed(image, markers, mask=mask))


def _disc_maxima_plain(landscape, radius, mask):
    """Main's formulation: every pixel's maximum over the disc (scipy's own footprint
    filter is no reference on arrays narrower than the disc: in "reflect" mode it gave
    other maxima there, and not the same ones from run to run)."""
    from napari_tessella.nuclei._markers import _disc_maximum_filter

    top = _disc_maximum_filter(landscape, max(1, round(radius)))
    return ndi.label((landscape >= top) & mask, structure=np.ones((3, 3)))[0]


@pytest.mark.parametrize("flat", [False, True])
def test_disc_maxima_markers_are_the_footprint_filter_s(flat):
    rng = np.random.default_rng(int(flat))
    for _ in range(120):
        shape = tuple(rng.integers(1, 40, 2))
        landscape = (rng.integers(0, 3, shape).astype(float) if flat
                     else ndi.gaussian_filter(rng.random(shape), 1.0))
        mask = rng.random(shape) < 0.8
        radius = rng.uniform(0.2, 12)
        got = _disc_maxima_markers(landscape, radius, mask)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, _disc_maxima_plain(landscape, radius, mask))
