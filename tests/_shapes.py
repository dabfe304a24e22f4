"""Small synthetic shapes the tests draw objects with: a filled ellipse and a Gaussian
spot of light (nuclei); a 12-bit noisy field of nuclei (frames and fills); dumbbell
lattices on oblong pixels (Find atoms)."""

from __future__ import annotations

import numpy as np


def ellipse(shape, centre, radius, axes=(1.0, 1.0)) -> np.ndarray:
    """A filled ellipse of ``radius`` times ``axes`` (rows, columns) at ``centre``."""
    rr, cc = np.indices(shape)
    return ((rr - centre[0]) / axes[0]) ** 2 + ((cc - centre[1]) / axes[1]) ** 2 <= radius**2


def gaussian_spot(shape, centre, radius, axes=(1.0, 1.0)) -> np.ndarray:
    """A Gaussian of height 1 and spread half ``radius`` times ``axes`` at ``centre``."""
    rr, cc = np.indices(shape)
    q = ((rr - centre[0]) / axes[0]) ** 2 + ((cc - centre[1]) / axes[1]) ** 2
    return np.exp(-q / (2 * (radius / 2) ** 2))


def pixel_sizes(ratio) -> np.ndarray:
    """The pixel's sizes in pixels of the mean size (their product 1)."""
    r = np.asarray(ratio, dtype=np.float64)
    return r / np.sqrt(r.prod())


def oblong_dumbbells(ratio, half, spacing=14.0, sigma=1.4, extent=100.0, seed=0,
                     noise=0.05):
    """Dumbbells round in the sample on pixels of ``ratio`` (peaks 1 and 0.7 at a square
    lattice's points minus and plus ``half``, half the pair's offset in mean pixels),
    Gaussian ``noise`` (of the peak): ``(image, truth in pixels)``."""
    rng = np.random.default_rng(seed)
    size = pixel_sizes(ratio)
    shape = tuple(round(extent / s) for s in size)
    grid = np.arange(rng.uniform(0, spacing) - spacing, extent + spacing, spacing)
    centres = np.array([(a, b) for a in grid for b in grid])
    pos = np.concatenate([centres - half, centres + half])
    peak = np.r_[np.ones(len(centres)), np.full(len(centres), 0.7)]
    rows, cols = np.arange(shape[0]) * size[0], np.arange(shape[1]) * size[1]
    image = rng.normal(0, noise, shape)
    for (r0, c0), h in zip(pos, peak, strict=True):
        image += h * np.outer(np.exp(-(rows - r0) ** 2 / (2 * sigma**2)),
                              np.exp(-(cols - c0) ** 2 / (2 * sigma**2)))
    return image, pos / size


def noisy_field(shape=(200, 240), n_nuclei=14, seed=5, noise_seed=0) -> np.ndarray:
    """A float field of nuclei 28 px across, 200-3200 with noise of 5: no value recurs
    exactly, so a constant frame or fill pasted on it is the only constant."""
    from napari_tessella.synthetic import synthetic_nuclei

    image = synthetic_nuclei(shape, n_nuclei=n_nuclei, diameter=28.0, seed=seed).image
    f16 = (image.clip(0) / image.max() * 3000 + 200).astype(np.uint16)
    return f16 + np.random.default_rng(noise_seed).normal(0, 5, f16.shape)


def filled_fields(field) -> dict:
    """``field`` with a constant fill as a user's files carry one: rotated (17° with a
    fill of 0, 40° with 1500, 17° as uint16 with 65535) and with a missing tile of 0."""
    from scipy import ndimage as ndi

    tile = field.copy()
    tile[:90, :110] = 0.0
    return {
        "rotated 17, fill 0": ndi.rotate(field, 17, reshape=True, cval=0.0, order=1),
        "rotated 40, fill 1500": ndi.rotate(field, 40, reshape=True, cval=1500.0, order=1),
        "uint16 rotated 17, fill 65535": ndi.rotate(field.clip(0).astype(np.uint16), 17,
                                                     reshape=True, cval=65535, order=1),
        "missing tile": tile,
    }
