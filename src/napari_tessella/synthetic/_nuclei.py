"""A fluorescence-like image of nuclei with its ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .._validation import as_shape, finite_number, whole_number


@dataclass(frozen=True, repr=False)
class SyntheticNuclei:
    """A synthetic nuclei image and the truth it was drawn from.

    Attributes
    ----------
    image : (M, N) ndarray of float32
        Blurred elliptical nuclei of varying brightness plus Gaussian noise.
    labels : (M, N) ndarray of int32
        Ground-truth nuclei, 1..n.
    centers : (n, 2) ndarray of float64
        (row, column) centre of each nucleus, row ``i`` for label ``i + 1``.
    diameter : float
        Mean nucleus diameter in pixels.
    """

    image: np.ndarray
    labels: np.ndarray
    centers: np.ndarray
    diameter: float

    def __repr__(self) -> str:
        return f"SyntheticNuclei({len(self.centers)} nuclei, diameter={self.diameter:g} px)"


def synthetic_nuclei(
    shape=(512, 512),
    *,
    n_nuclei: int = 40,
    diameter: float = 30.0,
    brightness_range=(0.2, 1.0),
    noise: float = 0.02,
    seed: int = 0,
) -> SyntheticNuclei:
    """Draw elliptical nuclei, some touching, of varying brightness.

    Centres are placed at random with at least 0.8 diameter between them, so neighbours may
    touch but each keeps its own core; axes vary by ±20 %, orientation at random. The
    image is blurred by a Gaussian of a twentieth of the diameter (optics) and has Gaussian
    noise of standard deviation ``noise`` (in units of the brightest nucleus).

    Raises
    ------
    ValueError, TypeError
        For a shape that is not two whole numbers in 1..8192, ``n_nuclei`` outside 0..1000,
        a diameter outside [2, shortest side], or any NaN, infinite or negative number.

    Examples
    --------
    >>> nuc = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20)
    >>> nuc.image.dtype, int(nuc.labels.max())
    (dtype('float32'), 5)
    """
    rows, cols = shape = as_shape(shape, maximum=8192)
    n_nuclei = whole_number(n_nuclei, "n_nuclei", minimum=0, maximum=1000)
    diameter = finite_number(diameter, "diameter", minimum=2, maximum=min(shape),
                             unit="pixels")
    try:
        low, high = (finite_number(b, "brightness_range", minimum=0)
                     for b in brightness_range)
    except (TypeError, ValueError) as err:
        raise type(err)(f"brightness_range must be two finite numbers >= 0: {err}") from None
    if low > high:
        raise ValueError(f"brightness_range must be (low, high) with low <= high; got "
                         f"{tuple(brightness_range)}.")
    noise = finite_number(noise, "noise", minimum=0)
    rng = np.random.default_rng(seed)
    radius = diameter / 2
    centers: list[tuple[float, float]] = []
    for _ in range(n_nuclei * 200):
        if len(centers) == n_nuclei:
            break
        c = (rng.uniform(radius, rows - radius), rng.uniform(radius, cols - radius))
        if all(np.hypot(c[0] - p[0], c[1] - p[1]) >= 0.8 * diameter for p in centers):
            centers.append(c)
    rr, cc = np.indices(shape, dtype=np.float64)
    labels = np.zeros(shape, np.int32)
    image = np.zeros(shape, np.float64)
    best = np.full(shape, np.inf)
    for i, (r0, c0) in enumerate(centers, start=1):
        a, b = radius * rng.uniform(0.8, 1.2, 2)
        theta = rng.uniform(0, np.pi)
        dr, dc = rr - r0, cc - c0
        u = dr * np.cos(theta) + dc * np.sin(theta)
        v = -dr * np.sin(theta) + dc * np.cos(theta)
        q = (u / a) ** 2 + (v / b) ** 2
        inside = (q <= 1) & (q < best)  # overlaps go to the nucleus whose core is nearer
        labels[inside] = i
        best[inside] = q[inside]
        image[inside] = rng.uniform(low, high)
    image = ndi.gaussian_filter(image, diameter / 20)
    image += rng.normal(0, noise, shape)
    return SyntheticNuclei(image=image.astype(np.float32), labels=labels,
                           centers=np.array(centers, dtype=np.float64).reshape(-1, 2),
                           diameter=float(diameter))
