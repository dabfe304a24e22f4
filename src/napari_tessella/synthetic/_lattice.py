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
    pair : (K,) ndarray of int, optional
        Dumbbell number of each column (:func:`synthetic_dumbbells` only).
    """

    image: np.ndarray
    positions: np.ndarray
    sublattice: np.ndarray
    intensity: np.ndarray
    pair: np.ndarray | None = None

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

    image = _draw(shape, pos, peak, sigma, rng, poisson, gaussian_noise)
    return SyntheticLattice(image=image, positions=pos, sublattice=sub, intensity=peak)


def _draw(shape, pos, peak, sigma, rng, poisson, gaussian_noise):
    """Gaussian columns of the given peaks, then shot noise and additive noise."""
    rows, cols = shape
    image = np.zeros(shape, np.float64)
    half = int(np.ceil(4 * sigma))
    offs = np.arange(-half, half + 1)
    for (r0, c0), h in zip(pos, peak, strict=True):
        ri = round(r0) + offs
        ci = round(c0) + offs
        ri, ci = ri[(ri >= 0) & (ri < rows)], ci[(ci >= 0) & (ci < cols)]
        d2 = (ri[:, None] - r0) ** 2 + (ci[None, :] - c0) ** 2
        # a sigma below ~1e-154 squares to 0 (a point column): exp(-inf) off its pixel
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            g = np.exp(-d2 / (2 * sigma**2))
        g[d2 == 0] = 1.0
        image[np.ix_(ri, ci)] += h * g
    if poisson:
        image = rng.poisson(image * poisson) / poisson
    if gaussian_noise:
        image += rng.normal(0, gaussian_noise, shape)
    return image.astype(np.float32)


def synthetic_dumbbells(
    shape=(256, 256),
    *,
    kind: str = "square",
    spacing: float = 14.0,
    pair_distance: float = 0.4,
    angle: float | str = 30.0,
    intensity_ratio: float = 0.7,
    sigma: float = 1.4,
    gaussian_noise: float = 0.0,
    poisson: float | None = None,
    seed: int = 0,
) -> SyntheticLattice:
    """Draw dumbbells: close pairs of Gaussian columns on a square or hexagonal lattice.

    Each lattice site holds two columns ``pair_distance · spacing`` apart, the brighter one
    (peak 1) and the weaker one (peak ``intensity_ratio``), as in a [110] projection of a
    zinc-blende crystal (GaAs, Si) seen by HAADF-STEM.

    Parameters
    ----------
    shape : (int, int)
        Image size.
    kind : {"square", "hexagonal"}
        Lattice of the dumbbell centres.
    spacing : float
        Distance between neighbouring dumbbell centres, in pixels.
    pair_distance : float
        Distance between the two columns of a dumbbell, as a fraction of ``spacing``.
    angle : float or "random"
        Direction from the brighter to the weaker column, in degrees counter-clockwise
        from the column axis (0: the weak column to the right); ``"random"`` draws one
        direction per dumbbell.
    intensity_ratio : float
        Peak of the weaker column relative to the brighter one.
    sigma : float
        Gaussian width of a column, in pixels.
    gaussian_noise : float
        Standard deviation of additive Gaussian noise, in units of the bright peak.
    poisson : float, optional
        Electron dose per unit intensity; applies shot noise when given.
    seed : int
        Random seed.

    Returns
    -------
    SyntheticLattice
        ``sublattice`` is 0 for the brighter, 1 for the weaker column; ``pair`` numbers
        the dumbbells (both columns of one share it).

    Raises
    ------
    ValueError, TypeError
        For a shape that is not two whole numbers in 1..8192, a spacing outside
        [2, longest side], a pair distance outside (0, 1), a sigma outside
        (0, longest side], or any NaN, infinite or negative number.

    Examples
    --------
    >>> lat = synthetic_dumbbells((64, 64), spacing=14, pair_distance=0.4)
    >>> lat.positions.shape[1], bool(np.all(np.bincount(lat.pair) == 2))
    (2, True)
    """
    if not isinstance(kind, str) or kind not in ("square", "hexagonal"):
        raise ValueError(f"kind must be 'square' or 'hexagonal'; got {kind!r}.")
    rows, cols = shape = as_shape(shape, maximum=MAX_SIDE)
    spacing = finite_number(spacing, "spacing", minimum=2, maximum=max(shape), unit="pixels")
    pair_distance = finite_number(pair_distance, "pair_distance", minimum=0, maximum=1,
                                  strict=True)
    if pair_distance >= 1:
        raise ValueError(f"pair_distance is a fraction of spacing in (0, 1); got {pair_distance}.")
    sigma = finite_number(sigma, "sigma", minimum=0, strict=True, maximum=max(shape),
                          unit="pixels")
    intensity_ratio = finite_number(intensity_ratio, "intensity_ratio", minimum=0)
    gaussian_noise = finite_number(gaussian_noise, "gaussian_noise", minimum=0)
    if poisson is not None:
        poisson = finite_number(poisson, "poisson", minimum=0, strict=True, maximum=1e12)
    if isinstance(angle, str):
        if angle != "random":
            raise ValueError(f"angle must be a number of degrees or 'random'; got {angle!r}.")
    else:  # (a NaN turned every dumbbell away: an empty lattice, and no word why)
        angle = finite_number(angle, "angle", unit="degrees")
    rng = np.random.default_rng(seed)
    if kind == "square":
        a1, a2 = np.array([spacing, 0.0]), np.array([0.0, spacing])
    else:
        a1 = np.array([0.0, spacing])
        a2 = np.array([spacing * np.sqrt(3) / 2, spacing / 2])
    n = int(max(rows, cols) / spacing * 2) + 4
    i, j = np.meshgrid(np.arange(-n, n), np.arange(-n, n), indexing="ij")
    centres = i.ravel()[:, None] * a1 + j.ravel()[:, None] * a2 + spacing / 2
    centres += rng.uniform(0, spacing, 2)  # the lattice does not start on a pixel
    if angle == "random":
        theta = rng.uniform(0, 2 * np.pi, len(centres))
    else:
        theta = np.full(len(centres), np.radians(angle))
    # (row, col) direction: angle counter-clockwise from the column axis, rows point down
    u = np.column_stack([-np.sin(theta), np.cos(theta)]) * (pair_distance * spacing / 2)
    pos = np.concatenate([centres - u, centres + u])
    sub = np.repeat([0, 1], len(centres))
    pair = np.tile(np.arange(len(centres)), 2)
    # keep whole dumbbells only, both columns at least one sigma inside the image
    inside = np.all((pos >= sigma) & (pos <= np.array(shape) - 1 - sigma), axis=1)
    whole = inside[: len(centres)] & inside[len(centres):]
    keep = np.tile(whole, 2)
    pos, sub, pair = pos[keep], sub[keep], np.unique(pair[keep], return_inverse=True)[1]
    peak = np.where(sub == 0, 1.0, float(intensity_ratio))
    image = _draw(shape, pos, peak, sigma, rng, poisson, gaussian_noise)
    return SyntheticLattice(image=image, positions=pos, sublattice=sub, intensity=peak,
                            pair=pair)


def position_bound(lattice: SyntheticLattice, sigma: float, dose: float,
                   reach: float | None = None) -> np.ndarray:
    """Cramér-Rao bound of each column's position in a synthetic image with shot noise.

    The smallest 2-D RMS error (√(var row + var col)) any unbiased estimator can reach
    when every column's position, peak and width and one background are unknown: the
    Fisher information of the column *and of all columns within* ``reach`` (their
    Gaussians overlap it) on the pixels of the image within 4.5 ``sigma`` of any of them,
    under Poisson noise of ``dose`` counts per unit intensity. For a column far from all
    others this is the bound of one Gaussian; for a close pair far from the rest, that of
    the pair model; where neighbours overlap it is higher than either, because a fit
    that models the neighbours has to estimate them too.

    Parameters
    ----------
    lattice : SyntheticLattice
        Image and truth, e.g. from :func:`synthetic_dumbbells` (drawn without additive
        noise).
    sigma : float
        Gaussian width of the columns it was drawn with, in pixels.
    dose : float
        The ``poisson`` dose it was drawn with.
    reach : float, optional
        Columns within this distance are fitted together (default 6 ``sigma``).

    Returns
    -------
    (K,) ndarray
        Bound per column of ``lattice.positions``, in pixels.

    Examples
    --------
    >>> lat = synthetic_lattice((40, 40), spacing=20, gaussian_noise=0, poisson=100.0)
    >>> bound = position_bound(lat, sigma=1.4, dose=100.0)
    >>> bool(np.allclose(bound, np.sqrt(2 * 1.4**2 / (100 * 2 * np.pi * 1.4**2)), rtol=0.05))
    True
    """
    sigma = finite_number(sigma, "sigma", minimum=0, strict=True, unit="pixels")
    dose = finite_number(dose, "dose", minimum=0, strict=True)
    reach = 6 * sigma if reach is None else finite_number(reach, "reach", minimum=0)
    pos, amp = np.asarray(lattice.positions), np.asarray(lattice.intensity)
    shape = lattice.image.shape
    from scipy.spatial import cKDTree

    tree = cKDTree(pos)
    out = np.empty(len(pos))
    margin = int(np.ceil(4.5 * sigma))
    for i, near in enumerate(tree.query_ball_point(pos, reach)):
        group = [i] + [j for j in near if j != i]
        g = pos[group]
        lo = np.maximum(np.floor(g.min(axis=0)) - margin, 0).astype(int)
        hi = np.minimum(np.ceil(g.max(axis=0)) + margin, np.array(shape) - 1).astype(int)
        rr, cc = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1),
                             indexing="ij")
        rr, cc = rr.ravel(), cc.ravel()
        # every column that adds light, and so noise, to these pixels
        light = tree.query_ball_point((lo + hi) / 2, np.hypot(*(hi - lo)) / 2 + margin)
        d2 = (rr[:, None] - pos[light, 0]) ** 2 + (cc[:, None] - pos[light, 1]) ** 2
        mu = (amp[light] * np.exp(-d2 / (2 * sigma**2))).sum(axis=1)
        dr, dc = rr[:, None] - g[:, 0], cc[:, None] - g[:, 1]
        gauss = np.exp(-(dr**2 + dc**2) / (2 * sigma**2))
        ag = amp[group] * gauss
        jac = np.concatenate([ag * dr / sigma**2, ag * dc / sigma**2, gauss,
                              ag * (dr**2 + dc**2) / sigma**3, np.ones((rr.size, 1))], axis=1)
        fisher = jac.T @ (jac * (dose / np.maximum(mu, 1e-9))[:, None])
        cov = np.linalg.inv(fisher)
        out[i] = cov[0, 0] + cov[len(group), len(group)]
    return np.sqrt(out)
