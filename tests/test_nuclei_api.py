"""seeded_watershed: the contract the widgets and the command line rely on."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella import estimate_object_diameter, seeded_watershed
from napari_tessella.nuclei import score_segmentation
from napari_tessella.synthetic import synthetic_nuclei


@pytest.fixture(scope="module")
def nuclei():
    # all clearly above background: recovering very dim nuclei is tested on its own
    return synthetic_nuclei((384, 384), n_nuclei=30, diameter=30, brightness_range=(0.5, 1.0),
                            seed=3)


@pytest.mark.parametrize("diameter", [15, 30, 60])
def test_diameter_estimate_on_known_sizes(diameter):
    n = int(24 * (30 / diameter) ** 2)
    nuc = synthetic_nuclei((512, 512), n_nuclei=n, diameter=diameter, seed=1)
    assert estimate_object_diameter(nuc.image) == pytest.approx(diameter, rel=0.1)


def test_territories_cover_plane_and_contain_nuclei(nuclei):
    result = seeded_watershed(nuclei.image)
    assert result.labels.dtype == np.int32 and result.territories.dtype == np.int32
    assert result.territories.min() > 0
    inside = result.labels > 0
    np.testing.assert_array_equal(result.territories[inside], result.labels[inside])
    assert set(np.unique(result.territories)) == set(np.unique(result.labels[inside]))
    # about one object per true nucleus
    assert abs(int(result.labels.max()) - int(nuclei.labels.max())) <= 3


def test_one_object_per_seed_point(nuclei):
    seeds = nuclei.centers[:10]
    result = seeded_watershed(nuclei.image, seeds=seeds)
    assert result.labels.max() == 10
    for _i, (r, c) in enumerate(np.rint(seeds).astype(int), start=1):
        assert result.labels[r, c] > 0
    assert len(result.seeds) == 10


def test_seed_label_image(nuclei):
    markers = np.zeros(nuclei.image.shape, np.int32)
    for i, (r, c) in enumerate(np.rint(nuclei.centers[:5]).astype(int), start=1):
        markers[r - 1:r + 2, c - 1:c + 2] = i
    result = seeded_watershed(nuclei.image, seeds=markers)
    assert result.labels.max() == 5


@pytest.mark.parametrize(("dtype", "ids"), [(np.int64, [2**40, 2**62, 7, 2**31]),
                                            (np.uint64, [2**64 - 1, 2**33, 3, 4])])
def test_seed_label_image_keeps_ids_of_any_size(nuclei, dtype, ids):
    """Ids beyond int32 (a Labels layer of int64 ids) are seeds like any other."""
    markers = np.zeros(nuclei.image.shape, dtype)
    for i, (r, c) in zip(ids, np.rint(nuclei.centers[:4]).astype(int), strict=True):
        markers[r - 1:r + 2, c - 1:c + 2] = i
    result = seeded_watershed(nuclei.image, seeds=markers)
    assert result.labels.max() == 4 and len(result.seeds) == 4


def test_seeds_outside_are_ignored(nuclei):
    seeds = np.vstack([nuclei.centers[:3], [[-50, 10], [10, 5000]]])
    assert seeded_watershed(nuclei.image, seeds=seeds).labels.max() == 3


def test_exclude_border(nuclei):
    result = seeded_watershed(nuclei.image, exclude_border=True)
    lab = result.labels
    assert np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]).max() == 0
    assert sorted(np.unique(lab))[1:] == list(range(1, lab.max() + 1))


def test_tutorial_recipe_runs(u2os_pair):
    image, _ = u2os_pair
    result = seeded_watershed(image, sigma=16, seeds="regional_maxima", landscape="distance",
                              threshold="otsu")
    assert result.sigma == 16
    assert result.labels.max() > 10 and result.territories.min() > 0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_dtypes(nuclei, dtype):
    img = nuclei.image - nuclei.image.min()
    img = (img / img.max() * (255 if dtype == np.uint8 else 1000)).astype(dtype)
    result = seeded_watershed(img, object_diameter=30)
    assert abs(int(result.labels.max()) - int(nuclei.labels.max())) <= 3


@pytest.mark.parametrize(
    ("image", "kwargs", "match"),
    [
        (np.ones((50, 50)), {}, "constant"),
        (np.zeros((2, 50, 50)), {}, "2-D"),
        (np.random.default_rng(0).random((50, 50)), {"landscape": "valley"}, "landscape"),
        (np.random.default_rng(0).random((50, 50)), {"object_diameter": -3}, "object_diameter"),
        (np.random.default_rng(0).random((50, 50)), {"seeds": "magic"}, "seeds"),
    ],
)
def test_bad_input(image, kwargs, match):
    with pytest.raises(ValueError, match=match):
        seeded_watershed(image, **kwargs)


def test_seeds_follow_the_kept_nuclei(nuclei):
    auto = seeded_watershed(nuclei.image, exclude_border=True)
    assert len(auto.seeds) == auto.labels.max()  # no seeds left for dropped nuclei
    given = np.vstack([nuclei.centers, [[0.0, 0.0]]])  # one seed in the corner background
    result = seeded_watershed(nuclei.image, seeds=given, exclude_border=True)
    assert len(result.seeds) == len(given)  # the user's seeds are all kept


def test_outlines_at_full_resolution():
    """Big nuclei are segmented on a reduced image (5x here), but their outlines are
    drawn at full resolution, not in 5-pixel steps, and stay inside their territories."""
    nuc = synthetic_nuclei((600, 640), n_nuclei=14, diameter=100, brightness_range=(0.3, 1.0),
                           seed=2)
    result = seeded_watershed(nuc.image)
    factor = round(result.object_diameter / 20)
    assert factor >= 4
    cols = np.nonzero(np.diff(result.labels, axis=1))[1] + 1
    rows = np.nonzero(np.diff(result.labels, axis=0))[0] + 1
    assert np.mean(cols % factor != 0) > 0.5 and np.mean(rows % factor != 0) > 0.5
    fg = result.labels > 0
    np.testing.assert_array_equal(result.territories[fg], result.labels[fg])
    s = score_segmentation(result.labels, nuc.labels)
    assert s["errors"] == 0 and s["mean_iou"] > 0.85, s


def test_diameter_of_small_objects_in_a_large_image():
    """Nuclei of 16 px in a 3000² image are a few pixels wide in the 512-px overview; the
    estimate must look closer instead of measuring clumps of them."""
    rng = np.random.default_rng(3)
    side, diameter, r = 3000, 16, 8
    image = np.zeros((side, side), np.float32)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = (yy**2 + xx**2 <= r * r).astype(np.float32)
    for row, col in rng.integers(r, side - r, (4000, 2)):
        image[row - r:row + r + 1, col - r:col + r + 1] = np.maximum(
            image[row - r:row + r + 1, col - r:col + r + 1], disc)
    image += rng.normal(0, 0.05, image.shape).astype(np.float32)
    assert 0.75 * diameter < estimate_object_diameter(image) < 1.35 * diameter


@pytest.mark.parametrize("shape", [(10, 13), (12, 12), (7, 5)])
@pytest.mark.parametrize("factor", [2, 3, 5])
def test_block_mean_is_the_mean_of_edge_padded_blocks(shape, factor):
    from napari_tessella.nuclei._resample import _block_mean

    img = np.random.default_rng(0).random(shape)
    rows, cols = (-(-s // factor) * factor for s in shape)
    padded = np.pad(img, ((0, rows - shape[0]), (0, cols - shape[1])), mode="edge")
    expected = padded.reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
    np.testing.assert_allclose(_block_mean(img, factor), expected, rtol=1e-12)
    assert _block_mean(img.astype(np.float32), factor).dtype == np.float32


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("h", [0.05, 0.2, 0.6])
def test_h_maxima_seeds_match_morphological_h_maxima(seed, h):
    """The dynamics-based h-maxima are scikit-image's h-maxima (whole image as mask)."""
    from scipy import ndimage as ndi
    from skimage.morphology import h_maxima

    from napari_tessella.nuclei._markers import _h_maxima_markers

    rng = np.random.default_rng(seed)
    landscape = ndi.gaussian_filter(rng.random((120, 150)), 3) * 40
    ours = _h_maxima_markers(landscape, h, np.ones(landscape.shape, bool))
    theirs = h_maxima(landscape, h).astype(bool)
    assert ours.max() > 1
    np.testing.assert_array_equal(ours > 0, theirs)


@pytest.mark.parametrize("shape", [(40, 53), (7, 9)])
@pytest.mark.parametrize("r", [1, 2, 5, 8])
def test_disc_maximum_filter_matches_the_footprint_filter(shape, r):
    from scipy import ndimage as ndi

    from napari_tessella.nuclei._markers import _disc_maximum_filter

    img = np.random.default_rng(r).random(shape)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disc = yy**2 + xx**2 <= r * r
    if min(shape) > 2 * r:
        expected = ndi.maximum_filter(img, footprint=disc)
    else:
        # scipy's footprint filter is no reference on arrays narrower than the disc (its
        # results there vary between calls): the disc's offsets over the image mirrored
        # as scipy's "reflect" mirrors it, one by one
        padded = np.pad(img, r, mode="symmetric")
        expected = np.max([padded[r + dy:r + dy + shape[0], r + dx:r + dx + shape[1]]
                           for dy, dx in zip(yy[disc], xx[disc], strict=True)], axis=0)
    np.testing.assert_array_equal(_disc_maximum_filter(img, r), expected)


def test_dim_blob_outlined_at_full_resolution_too():
    """A dim, blurred object whose 30 % cut lies below the foreground's own edge was drawn
    in steps of the working factor (its outline pixels were all kept); it now follows the
    foreground's edge at full resolution."""
    from scipy import ndimage as ndi

    rr, cc = np.mgrid[:300, :300]
    image = ndi.gaussian_filter(1.0 * ((rr - 80) ** 2 + (cc - 80) ** 2 <= 30**2), 2)
    # a dim disc blurred over a tenth of its diameter (a Gaussian smudge, which fades into
    # its ring, is dropped as glare since issue 14)
    image += 0.025 * ndi.gaussian_filter(1.0 * ((rr - 200) ** 2 + (cc - 200) ** 2 <= 30**2), 6)
    image += np.random.default_rng(0).normal(0, 0.002, image.shape)
    labels = seeded_watershed(image, object_diameter=60).labels  # working factor 3
    blob = labels == labels[200, 200]
    assert labels[200, 200] > 0 and labels.max() == 2
    blocks = blob.reshape(100, 3, 100, 3)
    partly = blocks.any(axis=(1, 3)) & ~blocks.all(axis=(1, 3))
    assert partly.sum() >= 20  # blocks cut by the outline: not a staircase of whole blocks


@pytest.mark.parametrize("seed", range(6))
def test_fill_holes_matches_scipy(seed):
    from scipy import ndimage as ndi

    from napari_tessella.nuclei._cues import _fill_holes

    rng = np.random.default_rng(seed)
    mask = ndi.gaussian_filter(rng.random((70, 90)), 1.5) > 0.47 + 0.01 * seed
    assert (ndi.binary_fill_holes(mask) != mask).any()  # there are holes to fill
    np.testing.assert_array_equal(_fill_holes(mask), ndi.binary_fill_holes(mask))
    for flat in (np.zeros((4, 5), bool), np.ones((4, 5), bool)):
        np.testing.assert_array_equal(_fill_holes(flat), flat)
