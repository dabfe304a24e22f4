"""Round 56's tidy: each plane made once, each look said once, each chunk read as often as
its work needs; the labels bit for bit those of before."""

import warnings

import dask.array as da
import numpy as np
import pytest
from _benchmarks import calls_of

from napari_tessella._finite import (
    finite_part,
    frame_of,
    seeded_watershed_finite,
    threshold_label_finite,
    whole_part,
)

FRAME = "1000 pixels (33 % of the image) are a constant frame of 0 around the field"


def _framed(dtype=np.float64):
    """A 50 × 60 image of random values 1-100 inside a frame of 0, 5 pixels wide."""
    field = np.random.default_rng(0).uniform(1, 100, (40, 50))
    image = np.zeros((50, 60))
    image[5:45, 5:55] = field
    return image.astype(dtype)


@pytest.mark.parametrize("colour", [None, 3, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint16])
def test_the_frame_and_the_whole_part_read_one_plane(colour, dtype):
    """A frame of 0 around a field (2-d, RGB or RGBA: its luminance) is the same part,
    said in the same words, for ``frame_of`` and ``whole_part`` (passes on the base too:
    the two share one plane now)."""
    image = _framed(dtype)
    if colour:
        image = np.repeat(image[..., None], colour, axis=-1)
    for part in (frame_of(image), whole_part(image)):
        assert part.box == (slice(5, 45), slice(5, 55)) and part.kind == "frame"
        assert part.message().startswith(FRAME)
    assert finite_part(image) is None


@pytest.mark.parametrize("make", [
    lambda im: da.from_array(im, chunks=25),  # lazy: the chunked path's own checks
    lambda im: im > 50,  # bool
    lambda im: im.astype(np.complex128),
    lambda im: np.stack([im] * 5, axis=-1),  # 3-d, not colour
    lambda im: im[0],  # 1-d
    lambda im: im[:0],  # no pixel
], ids=["lazy", "bool", "complex", "five-channels", "1-d", "empty"])
def test_other_planes_are_left_to_the_core(make):
    """Images that are no plane of real numbers hold no frame here (the core refuses or
    reads them in its own words)."""
    image = make(_framed())
    assert frame_of(image) is None and whole_part(image) is None


def test_an_empty_colour_image_is_refused_in_words():
    """An RGB image of no pixel is refused by the core's own check (fails on the base: an
    ``IndexError`` from the frame's look)."""
    image = np.zeros((0, 5, 3))
    assert frame_of(image) is None and whole_part(image) is None
    for run in (seeded_watershed_finite, threshold_label_finite):
        with pytest.raises(ValueError, match="got shape \\(0, 5, 3\\)"):
            run(image)


def test_a_complex_colour_image_is_refused_without_a_cast():
    """A complex RGBA image is refused as complex by the core, its planes never cast to
    real numbers on the way (fails on the base: ``finite_part`` and ``frame_of`` took its
    luminance first, with numpy's warning that the imaginary part is discarded)."""
    image = np.repeat(_framed()[..., None], 4, axis=-1).astype(np.complex128)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert finite_part(image) is None and frame_of(image) is None
        with pytest.raises(TypeError, match="real numbers"):
            seeded_watershed_finite(image, object_diameter=10)


@pytest.fixture(scope="module")
def framed16():
    """A 16-bit field of 10 nuclei in a mid-grey frame of 1500, and its watershed."""
    from napari_tessella import seeded_watershed
    from napari_tessella.synthetic import synthetic_nuclei

    field = synthetic_nuclei((160, 200), n_nuclei=10, diameter=28.0, seed=5).image
    field = (field.clip(0) / field.max() * 3000 + 200).astype(np.uint16)
    framed = np.full((200, 250), 1500, np.uint16)
    framed[15:175, 30:230] = field
    return framed, seeded_watershed(framed)


def _core(image, frame):
    from napari_tessella.nuclei import watershed

    return watershed._whole(image, None, object_diameter=None, sigma=None,
                            landscape="distance", threshold="auto", exclude_border=False,
                            min_size=None, sharpen=True, frame=frame)


def test_the_core_takes_one_word_on_the_frame(monkeypatch, framed16):
    """``_whole``'s one ``frame``: not read yet (it looks, once on a clean image), the
    caller's part (no look), or None (nothing outside: no look, the frame segmented with
    the field). Fails on the base, where None meant "not read yet" and ``look=False`` said
    "nothing"."""
    from napari_tessella.nuclei import watershed

    framed, alone = framed16
    part = frame_of(framed)
    looks = calls_of(monkeypatch, watershed, "frame_part")
    unread = _core(framed, watershed._UNREAD)
    assert len(looks) == 1
    given = _core(framed, part)
    assert len(looks) == 1
    for res in (unread, given):
        np.testing.assert_array_equal(res.labels, alone.labels)
        np.testing.assert_array_equal(res.territories, alone.territories)
    nothing = _core(framed, None)
    assert len(looks) == 1
    assert nothing.territories[0, 0] > 0  # the frame is a territory: read with the field
    assert alone.territories[0, 0] == 0


def test_the_frame_said_is_the_frame_segmented(monkeypatch, framed16):
    """``seeded_watershed_finite`` hands the frame it says to the core, which does not look
    again on a clean image (a guard: passes on the base too)."""
    from napari_tessella.nuclei import watershed

    framed, alone = framed16
    looks = calls_of(monkeypatch, watershed, "frame_part")
    run = seeded_watershed_finite(framed)
    assert not looks and run.said.startswith("18000 pixels")
    np.testing.assert_array_equal(run.result.labels, alone.labels)


class _Counting:
    """A NumPy image read like an on-disk array, counting the reads of each chunk (in
    ``self.reads``, shared with the copies dask may make of it)."""

    def __init__(self, image, chunks, reads):
        self.image, self.shape, self.dtype, self.ndim = image, image.shape, image.dtype, 2
        self.chunks, self.reads = chunks, reads

    def __getitem__(self, key):
        out = self.image[key]
        if out.size:  # (dask's zero-size probe for the dtype is no read)
            start = tuple(((k.start or 0) if isinstance(k, slice) else k % n) // c * c
                          for k, c, n in zip(key, self.chunks, self.shape, strict=True))
            self.reads[start] = self.reads.get(start, 0) + 1
        return out


def _spiky(image):
    """``image`` with 40 hot pixels at its maximum inside it (a copy)."""
    out = image.copy()
    rng = np.random.default_rng(3)
    r = rng.integers(10, image.shape[0] - 10, 40)
    c = rng.integers(10, image.shape[1] - 10, 40)
    out[r, c] = np.iinfo(out.dtype).max
    return out


@pytest.fixture(scope="module")
def field12():
    """A 12-bit field of 60 nuclei, 400 × 460."""
    from napari_tessella.synthetic import synthetic_nuclei

    nuc = synthetic_nuclei((400, 460), n_nuclei=60, diameter=30.0, seed=7)
    return (nuc.image.clip(0) / nuc.image.max() * 3800 + 150).astype(np.uint16)


@pytest.mark.parametrize("spiky", [False, True], ids=["clean", "hot-pixels"])
def test_the_spikes_sample_is_read_in_the_first_pass(field12, spiky):
    """Chunk by chunk, the spikes' levels are read in the first pass: the diameter's
    estimate reads each chunk of a clean field twice (the first pass, each chunk's spikes
    counted), the watershed five times on this field; a spiky field as before (3 and 6:
    its first pass is made again of the image cleaned), and its edge chunks a seventh
    time (round 59: the fill looked for on the image as given, as memory does). The
    results are memory's. Fails on the base for the clean field (3 and 6 reads: the sample
    had a read of its own)."""
    import dask
    from _benchmarks import same_partition

    from napari_tessella import seeded_watershed
    from napari_tessella.nuclei import (
        estimate_object_diameter,
        estimate_object_diameter_chunked,
        seeded_watershed_chunked,
    )

    image = _spiky(field12) if spiky else field12
    chunks = (128, 160)
    rows, cols = range(0, 400, 128), range(0, 460, 160)
    reads: dict = {}
    with dask.config.set(scheduler="synchronous"):
        lazy = da.from_array(_Counting(image, chunks, reads), chunks=chunks)
        diameter = estimate_object_diameter_chunked(lazy)
        assert reads == {(r, c): 2 + spiky for r in rows for c in cols}, reads
        reads.clear()
        labels = seeded_watershed_chunked(lazy).labels.compute()
        # a spiky field's edge chunks once more: its fill is looked for on the image as
        # given too, as memory does (round 59), from that image's own edge lines
        edge = {(r, c): (r in (rows[0], rows[-1]) or c in (cols[0], cols[-1]))
                for r in rows for c in cols}
        assert reads == {k: 5 + spiky + (spiky and at) for k, at in edge.items()}, reads
    assert diameter == pytest.approx(estimate_object_diameter(image), rel=1e-9)
    memory = seeded_watershed(image)
    assert same_partition(memory.labels, labels)
