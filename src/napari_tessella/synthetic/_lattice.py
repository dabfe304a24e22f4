"""A HAADF-STEM-like image of atom columns on a lattice, with the true positions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_shape, finite_number

#: Largest side, in pixels, of a generated image.
MAX_SIDE = 8192


@dataclass(frozen=True, repr=False)
class SyntheticLattice:
    """A synthetic lattice image and the truth it was drawn from.

    Attributes
    ----------
    image : (M, N) ndarray of float32
        Gaussian columns (peak 1 for the main sublattice) plus noise.
    positions : (K, 2) ndarray of float64
        True (row, column) of every column drawn whose centre lies at least one ``sigma``
        inside the image.
    sublattice : (K,) ndarray of int
        0 for the main sublattice, 1 for the second one.
    intensity : (K,) ndarray of float64
        Peak height of each column.
    """

    image: np.ndarray
    positions: np.ndarray
    sublattice: np.ndarray
    intensity: np.ndarray

    def __repr__(self) -> str:
        return f"SyntheticLattice({len(self.positions)} columns, shape={self.image.shape})"


def synthetic_lattice(
    shape=(256, 256),
    *,
    kind: str = "square",
    spacing: float = 7.0,
    sigma: float = 1.4,
    sublattice_intensity: float | None = None,
    gaussian_noise: float = 0.05,
    poisson: float | None = None,
    drift: float = 0.0,
    seed: int = 0,
) -> SyntheticLattice:
    """Draw Gaussian atom columns on a square or hexagonal lattice.

    Parameters
    ----------
    shape : (int, int)
        Image size.
    kind : {"square", "hexagonal"}
        Lattice type.
    spacing, sigma : float
        Nearest-neighbour distance between columns (whatever the sublattices) and the
        Gaussian width of a column, in pixels.
    sublattice_intensity : float, optional
        Adds a second sublattice with this peak height relative to the main one: at the
        cell centres of a square lattice (a checkerboard, lattice constant spacing·√2) or
        at half of the triangle centres of a hexagonal one (a honeycomb, lattice constant
        spacing·√3).
    gaussian_noise : float
        Standard deviation of additive Gaussian noise, in units of the main peak.
    poisson : float, optional
        Electron dose per unit intensity; applies shot noise when given.
    drift : float
        Slow scan drift: rows are shifted sideways by up to ``drift`` pixels (a sine over
        the image height), and the true positions follow it.
    seed : int
        Random seed.

    Raises
    ------
    ValueError, TypeError
        For a shape that is not two whole numbers in 1..8192, a spacing outside
        [1, longest side], a sigma outside (0, longest side], or any NaN, infinite or
        negative number.

    Examples
    --------
    >>> lat = synthetic_lattice((64, 64), spacing=8)
    >>> lat.image.shape, lat.positions.shape[1]
    ((64, 64), 2)
    """
    if not isinstance(kind, str) or kind not in ("square", "hexagonal"):
        raise ValueError(f"kind must be 'square' or 'hexagonal'; got {kind!r}.")
    rows, cols = shape = as_shape(shape, maximum=MAX_SIDE)
    # at most ~(MAX_SIDE / 1 px)^2 columns: a spacing under 1 pixel is not a lattice image
    spacing = finite_number(spacing, "spacing", minimum=1, maximum=max(shape), unit="pixels")
    sigma = finite_number(sigma, "sigma", minimum=0, strict=True, maximum=max(shape),
                          unit="pixels")
    if sublattice_intensity is not None:
        sublattice_intensity = finite_number(sublattice_intensity, "sublattice_intensity",
                                             minimum=0)
    gaussian_noise = finite_number(gaussian_noise, "gaussian_noise", minimum=0)
    if poisson is not None:
        poisson = finite_number(poisson, "poisson", minimum=0, strict=True, maximum=1e12)
    drift = finite_number(drift, "drift", minimum=-max(shape), maximum=max(shape),
                          unit="pixels")
    rng = np.random.default_rng(seed)
    if kind == "square":
        a = spacing * (np.sqrt(2) if sublattice_intensity else 1.0)
        a1, a2 = np.array([a, 0.0]), np.array([0.0, a])
        basis = [np.zeros(2)] + ([(a1 + a2) / 2] if sublattice_intensity else [])
    else:
        a = spacing * (np.sqrt(3) if sublattice_intensity else 1.0)
        a1 = np.array([0.0, a])
        a2 = np.array([a * np.sqrt(3) / 2, a / 2])
        basis = [np.zeros(2)] + ([(a1 + a2) / 3] if sublattice_intensity else [])
    n = int(max(rows, cols) / spacing * 2) + 4
    i, j = np.meshgrid(np.arange(-n, n), np.arange(-n, n), indexing="ij")
    cells = i.ravel()[:, None] * a1 + j.ravel()[:, None] * a2 + spacing / 2
    pos, sub = [], []
    for k, b in enumerate(basis):
        pos.append(cells + b)
        sub.append(np.full(len(cells), k))
    pos, sub = np.concatenate(pos), np.concatenate(sub)
    if drift:
        pos[:, 1] += drift * np.sin(2 * np.pi * pos[:, 0] / rows)
    inside = np.all((pos >= sigma) & (pos <= np.array(shape) - 1 - sigma), axis=1)
    pos, sub = pos[inside], sub[inside]
    peak = np.where(sub == 0, 1.0, sublattice_intensity or 0.0)

    image = np.zeros(shape, np.float64)
    half = int(np.ceil(4 * sigma))
    offs = np.arange(-half, half + 1)
    for (r0, c0), h in zip(pos, peak, strict=True):
        ri = round(r0) + offs
        ci = round(c0) + offs
        ri, ci = ri[(ri >= 0) & (ri < rows)], ci[(ci >= 0) & (ci < cols)]
        g = np.exp(-((ri[:, None] - r0) ** 2 + (ci[None, :] - c0) ** 2) / (2 * sigma**2))
        image[np.ix_(ri, ci)] += h * g
    if poisson:
        image = rng.poisson(image * poisson) / poisson
    image += rng.normal(0, gaussian_noise, shape)
    return SyntheticLattice(image=image.astype(np.float32), positions=pos, sublattice=sub,
                            intensity=peak)
