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
    min_separation: float = 0.8,
    chromocenters: int = 0,
    foci_contrast=(2.0, 4.0),
    saturated: int = 0,
    debris: int = 0,
    background: float = 0.0,
    ramp: float = 0.0,
    seam: float = 0.0,
    dome: float = 0.0,
    photons: float = 0.0,
    aspect: float = 1.0,
    small: int = 0,
    small_scale: float = 0.5,
    nucleoli: int = 0,
    nucleoli_depth=(0.3, 0.6),
    nucleoli_size=(0.1, 0.2),
    packed: float | None = None,
    blur: float | None = None,
) -> SyntheticNuclei:
    """Draw elliptical nuclei, some touching, of varying brightness.

    Centres are placed at random with at least 0.8 diameter between them, so neighbours may
    touch but each keeps its own core; axes vary by ±20 %, orientation at random. The
    image is blurred by a Gaussian of a twentieth of the diameter (optics) and has Gaussian
    noise of standard deviation ``noise`` (in units of the brightest nucleus).

    The harder conditions of other cell lines, all off by default (the image is then the
    same as without them, for any ``seed``); the truth never changes with them:

    - ``min_separation``: least distance between centres, in diameters (0.8; ~0.6 packs
      a dense field of touching nuclei).
    - ``chromocenters``: bright foci per nucleus (about that many, radius d/12-d/7, each
      ``foci_contrast`` times the nucleus's own level), on a textured nucleoplasm that
      thins towards the rim (55 % of its level at the edge).
    - ``saturated``: that many nuclei become mitotic/apoptotic-like: 8-15x brighter than the
      brightest ordinary one, with a wide out-of-focus halo (Gaussian of 0.5-0.8 d, at
      most 1.5x the brightest ordinary nucleus), and the image is clipped (saturated) at
      3x the brightest ordinary nucleus.
    - ``debris``: that many objects outside the nuclei that are not nuclei: small bright
      specks (d/12-d/6 across) and broad faint glare (smudges of about a diameter).
    - ``background``: additive background level (units of the brightest nucleus), so a
      nucleus of brightness 0.5 on a background of 1 is 1.5x above it.
    - ``ramp``: an uneven background: a linear ramp across the field plus a smooth bump, of
      that amplitude peak to peak.
    - ``seam``: touching nuclei are dimmed by this fraction along their contact (a line of
      one pixel on each side), as nuclear envelopes pressed together look.
    - ``dome``: nuclei are brighter at their centre than at their rim, as the projected
      thickness of an ellipsoid: their level falls by this fraction from the centre to the
      edge (0 = flat; two touching domes show a valley where they meet, without a seam).
    - ``photons``: low light. The image (background included) is scaled so that the
      brightest ordinary nucleus collects this many photons above the background, and
      its Poisson noise replaces the Gaussian ``noise``; the image is then in counts.
    - ``aspect``: elongated nuclei. Each nucleus's axes are further stretched to an aspect
      ratio drawn uniformly from 1 to ``aspect`` (their area kept); 1 = as without it.
    - ``small``: a second, smaller population (a co-culture, a tissue of two cell types):
      that many more nuclei of ``small_scale`` times the diameter, placed after the others
      and as far from them as ``min_separation`` asks of their mean diameter (fewer if the
      field is full), labelled after them.
    - ``nucleoli``: dark nucleoli, as a DNA stain shows them in many cell lines (HeLa,
      fibroblasts, tumour lines): each nucleus holds 1 to ``nucleoli`` of them (drawn
      uniformly), discs of radius ``nucleoli_size`` (lo, hi) times the diameter, dimmed by
      ``nucleoli_depth`` (lo, hi) of the nucleus's level there (0.5 = half as bright),
      centred anywhere in the nucleus that leaves a rim of at least d/20 (off-centre
      ones, near the edge, leave a crescent of bright chromatin).
    - ``packed``: a tiling, as a crop of a packed tissue or a confluent monolayer shows:
      discs of exactly ``diameter`` on a hexagonal lattice of pitch ``diameter + packed``
      (the gap in pixels between neighbours), at a random offset and angle, filling the
      field to its edges (nuclei cut by the border are kept, as a crop cuts them);
      ``n_nuclei``, ``min_separation``, ``aspect`` and ``small`` then play no part.
      None (the default) places the nuclei at random as above.
    - ``blur``: the standard deviation of the optics' Gaussian in pixels (None: d/20).

    Raises
    ------
    ValueError, TypeError
        For a shape that is not two whole numbers in 1..8192, ``n_nuclei`` outside 0..1000,
        a diameter outside [2, shortest side], or any NaN, infinite or negative number
        (``seam`` at most 1, counts of the harder conditions at most 1000).

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
    min_separation = finite_number(min_separation, "min_separation", minimum=0)
    chromocenters, saturated, debris = (whole_number(v, k, minimum=0, maximum=1000) for k, v in
                                        (("chromocenters", chromocenters),
                                         ("saturated", saturated), ("debris", debris)))
    foci_contrast = tuple(finite_number(v, "foci_contrast", minimum=0) for v in foci_contrast)
    background = finite_number(background, "background", minimum=0)
    ramp = finite_number(ramp, "ramp", minimum=0)
    seam = finite_number(seam, "seam", minimum=0, maximum=1)
    dome = finite_number(dome, "dome", minimum=0, maximum=1)
    photons = finite_number(photons, "photons", minimum=0)
    aspect = finite_number(aspect, "aspect", minimum=1)
    small = whole_number(small, "small", minimum=0, maximum=1000)
    small_scale = finite_number(small_scale, "small_scale", minimum=0.05, maximum=1)
    nucleoli = whole_number(nucleoli, "nucleoli", minimum=0, maximum=1000)
    nucleoli_depth, nucleoli_size = (_pair(v, k, maximum=m) for k, v, m in
                                     (("nucleoli_depth", nucleoli_depth, 1),
                                      ("nucleoli_size", nucleoli_size, 0.5)))
    if packed is not None:
        packed = finite_number(packed, "packed", minimum=0, unit="pixels")
    blur = diameter / 20 if blur is None else finite_number(blur, "blur", minimum=0,
                                                            unit="pixels")
    stretch = np.random.default_rng([seed, 2])  # its own draws: the rest stays the same
    rng = np.random.default_rng(seed)
    radius = diameter / 2
    centers: list[tuple[float, float]] = []
    if packed is not None:
        centers, n_nuclei, small = _hexagonal(shape, diameter + packed, radius,
                                              np.random.default_rng([seed, 5])), 0, 0
    for _ in range(n_nuclei * 200):
        if len(centers) == n_nuclei:
            break
        c = (rng.uniform(radius, rows - radius), rng.uniform(radius, cols - radius))
        if all(np.hypot(c[0] - p[0], c[1] - p[1]) >= min_separation * diameter
               for p in centers):
            centers.append(c)
    radii, n_first, draws = [radius] * len(centers), len(centers), None
    if small:  # from their own generator: the other nuclei stay the same
        centers, radii, draws = _small_nuclei(centers, radii, small, radius * small_scale,
                                              min_separation, shape, seed)
    rr, cc = np.indices(shape, dtype=np.float64)
    labels = np.zeros(shape, np.int32)
    image = np.zeros(shape, np.float64)
    best = np.full(shape, np.inf)
    level = np.zeros(len(centers) + 1)
    for i, (r0, c0) in enumerate(centers, start=1):
        gen = rng if i <= n_first else draws
        a, b = radii[i - 1] * gen.uniform(0.8, 1.2, 2)
        if packed is not None:
            a = b = radius
        elif aspect > 1:
            k = np.sqrt(stretch.uniform(1, aspect))
            a, b = a * k, b / k
        theta = gen.uniform(0, np.pi)
        # the ellipse's box (the same values as over the whole field, far fewer pixels)
        half = max(a, b) + 2
        box = (slice(max(0, int(r0 - half)), max(0, int(r0 + half) + 2)),
               slice(max(0, int(c0 - half)), max(0, int(c0 + half) + 2)))
        dr, dc = rr[box] - r0, cc[box] - c0
        u = dr * np.cos(theta) + dc * np.sin(theta)
        v = -dr * np.sin(theta) + dc * np.cos(theta)
        q = (u / a) ** 2 + (v / b) ** 2
        # overlaps go to the nucleus whose core is nearer
        inside = (q <= 1) & (q < best[box])
        labels[box][inside] = i
        best[box][inside] = q[inside]
        level[i] = gen.uniform(low, high)
        image[box][inside] = level[i]
        if dome:
            image[box][inside] *= 1 - dome + dome * np.sqrt(np.clip(1 - q[inside], 0, 1))
    if packed is not None:  # the sites whose disc holds no pixel centre of the field
        ids = np.unique(labels[labels > 0])
        order = np.zeros(len(centers) + 1, np.int32)
        order[ids] = np.arange(1, ids.size + 1)
        labels, level = order[labels], level[np.concatenate([[0], ids])]
        centers = [centers[i - 1] for i in ids]
    if seam:
        contact = np.zeros(shape, bool)
        for a, b in ((labels[1:], labels[:-1]), (labels[:, 1:], labels[:, :-1])):
            touch = (a != b) & (a > 0) & (b > 0)
            if a.shape[0] != rows:
                contact[1:] |= touch
                contact[:-1] |= touch
            else:
                contact[:, 1:] |= touch
                contact[:, :-1] |= touch
        image[contact] *= 1 - seam
    # the harder conditions draw from their own generator: the basic image stays the same
    extra = np.random.default_rng([seed, 1])
    if chromocenters or saturated:
        image = _texture(image, labels, best, level, diameter, chromocenters, foci_contrast,
                         saturated, extra)
    if nucleoli:  # their own generator too
        image = _nucleoli(image, labels, diameter, nucleoli, nucleoli_depth, nucleoli_size,
                          np.random.default_rng([seed, 4]))
    image = ndi.gaussian_filter(image, blur)
    if saturated:
        image = _halos(image, labels, diameter, high, extra)
    if debris:
        image += _debris(labels, diameter, debris, high, extra)
    if background or ramp:
        image += background + _uneven(shape, ramp, extra)
    if photons:
        scale = photons / max(high, 1e-12)
        image = extra.poisson(np.clip(image, 0, None) * scale).astype(np.float64)
        top = (background + 3 * high) * scale
    else:
        image += rng.normal(0, noise, shape)
        top = background + 3 * high
    if saturated:  # the camera's range ends at 3x the brightest ordinary nucleus
        image = np.minimum(image, top)
    return SyntheticNuclei(image=image.astype(np.float32), labels=labels,
                           centers=np.array(centers, dtype=np.float64).reshape(-1, 2),
                           diameter=float(diameter))


def _hexagonal(shape, pitch, radius, rng):
    """Centres of a hexagonal lattice of ``pitch`` at a random offset and angle: every
    site whose disc of ``radius`` reaches into the field (row-major order)."""
    rows, cols = shape
    theta = rng.uniform(0, np.pi / 3)
    u = pitch * np.array([np.cos(theta), np.sin(theta)])
    v = pitch * np.array([np.cos(theta + np.pi / 3), np.sin(theta + np.pi / 3)])
    origin = rng.uniform(0, 1, 2) @ np.array([u, v]) + np.array([rows, cols]) / 2
    reach = int(np.hypot(rows, cols) / pitch) + 2
    i, j = np.mgrid[-reach:reach + 1, -reach:reach + 1].reshape(2, -1)
    sites = origin + np.outer(i, u) + np.outer(j, v)
    keep = ((sites[:, 0] > -radius) & (sites[:, 0] < rows - 1 + radius)
            & (sites[:, 1] > -radius) & (sites[:, 1] < cols - 1 + radius))
    sites = sites[keep]
    sites = sites[np.lexsort((sites[:, 1], sites[:, 0]))]
    return [tuple(map(float, c)) for c in sites]


def _pair(value, name, *, maximum):
    """(lo, hi): two finite numbers in [0, maximum], lo <= hi."""
    try:
        lo, hi = (finite_number(v, name, minimum=0, maximum=maximum) for v in value)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name} must be two numbers (lo, hi) in [0, {maximum}]: "
                        f"{err}") from None
    if lo > hi:
        raise ValueError(f"{name} must be (lo, hi) with lo <= hi; got {tuple(value)}.")
    return lo, hi


def _nucleoli(image, labels, diameter, most, depth, size, rng):
    """Dark discs inside each nucleus: 1..``most`` per nucleus, radius ``size`` x d,
    dimmed by ``depth``, each leaving at least d/20 of the nucleus around it."""
    out = image.copy()
    rim = diameter / 20
    for i, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        own = np.pad(labels[box] == i, 1)
        inner = ndi.distance_transform_edt(own)[1:-1, 1:-1]
        for _ in range(rng.integers(1, most + 1)):
            rad = diameter * rng.uniform(*size)
            room = np.flatnonzero((inner >= rad + rim).ravel())
            if room.size == 0:  # a small nucleus: its deepest point
                room = np.flatnonzero((inner == inner.max()).ravel())
            r0, c0 = divmod(int(room[rng.integers(room.size)]), inner.shape[1])
            rr, cc = np.indices(inner.shape)
            disc = ((rr - r0) ** 2 + (cc - c0) ** 2 <= rad * rad) & own[1:-1, 1:-1]
            out[box][disc] *= 1 - rng.uniform(*depth)
    return out


def _small_nuclei(centers, radii, count, r_small, separation, shape, seed):
    """``count`` more centres of nuclei of radius ``r_small``, at least ``separation``
    times the mean diameter of the pair from every centre (fewer when no place is left),
    with their radii and the generator the small nuclei draw from."""
    rows, cols = shape
    draws = np.random.default_rng([seed, 3])
    centers, radii = list(centers), list(radii)
    placed = 0
    for _ in range(count * 200):
        if placed == count:
            break
        c = (draws.uniform(r_small, rows - r_small), draws.uniform(r_small, cols - r_small))
        if all(np.hypot(c[0] - p[0], c[1] - p[1]) >= separation * (r + r_small)
               for p, r in zip(centers, radii, strict=True)):
            centers.append(c)
            radii.append(r_small)
            placed += 1
    return centers, radii, draws


def _texture(image, labels, q, level, diameter, chromocenters, foci_contrast, saturated,
             rng):
    """Chromocenters (bright foci) on a textured nucleoplasm; saturated nuclei."""
    shape = labels.shape
    out = image.copy()
    n = len(level) - 1
    if chromocenters:
        # the nucleoplasm thins towards the rim (projected thickness of an ellipsoid)
        inside = labels > 0
        out[inside] *= 0.55 + 0.45 * np.sqrt(np.clip(1 - q[inside], 0, 1))
        # texture: +-15 % of the nucleus's level, correlated over d/10
        tex = ndi.gaussian_filter(rng.normal(0, 1, shape), diameter / 10)
        tex *= 0.15 / max(float(tex.std()), 1e-12)
        out[inside] *= 1 + tex[inside]
        rr, cc = np.indices(shape)
        boxes = ndi.find_objects(labels)
        for i in range(1, n + 1):
            box = boxes[i - 1]
            if box is None:
                continue
            own = np.flatnonzero((labels[box] == i).ravel())
            for _ in range(rng.poisson(chromocenters)):
                k = own[rng.integers(own.size)]
                r0 = box[0].start + k // (box[1].stop - box[1].start)
                c0 = box[1].start + k % (box[1].stop - box[1].start)
                rad = diameter * rng.uniform(1 / 12, 1 / 7)
                sl = (slice(max(0, int(r0 - rad - 1)), int(r0 + rad + 2)),
                      slice(max(0, int(c0 - rad - 1)), int(c0 + rad + 2)))
                focus = ((rr[sl] - r0) ** 2 + (cc[sl] - c0) ** 2 <= rad * rad)
                focus &= labels[sl] == i
                out[sl][focus] = level[i] * rng.uniform(*foci_contrast)
    if saturated:
        top = float(level[1:].max()) if n else 1.0
        for i in rng.choice(np.arange(1, n + 1), size=min(saturated, n), replace=False):
            out[labels == i] = top * rng.uniform(8, 15)
    return out


def _halos(image, labels, diameter, top, rng):
    """Out-of-focus glow around the saturated nuclei (the pixels far above the rest)."""
    bright = image > 5 * top
    if not bright.any():
        return image
    glow = ndi.gaussian_filter(np.where(bright, image, 0.0), diameter * rng.uniform(0.5, 0.8))
    return image + 1.5 * top * glow / max(float(glow.max()), 1e-12)


def _debris(labels, diameter, count, top, rng):
    """Small bright specks and broad faint glare, outside the nuclei."""
    shape = labels.shape
    specks = np.zeros(shape)
    glare = np.zeros(shape)
    outside = np.flatnonzero((ndi.distance_transform_edt(labels == 0) > diameter / 4).ravel())
    if outside.size == 0:
        return specks
    for j in range(count):
        k = outside[rng.integers(outside.size)]
        r0, c0 = divmod(int(k), shape[1])
        if j % 2 == 0:  # a speck: bright, well below the nucleus size
            rad = max(1, round(diameter * rng.uniform(1 / 24, 1 / 12)))
            specks[max(0, r0 - rad):r0 + rad + 1, max(0, c0 - rad):c0 + rad + 1] = (
                top * rng.uniform(0.5, 2.0))
        else:  # glare: a faint, broad smudge
            glare[r0, c0] = top * rng.uniform(0.15, 0.3)
    specks = ndi.gaussian_filter(specks, diameter / 20)
    if glare.any():
        s = diameter * 0.4
        glare = ndi.gaussian_filter(glare, s) * 2 * np.pi * s * s
    return (specks + glare) * (labels == 0)


def _uneven(shape, amplitude, rng):
    """A linear ramp in a random direction plus a broad bump, ``amplitude`` peak to peak."""
    if not amplitude:
        return 0.0
    rr, cc = np.indices(shape, dtype=np.float64)
    theta = rng.uniform(0, 2 * np.pi)
    field = (rr / shape[0]) * np.cos(theta) + (cc / shape[1]) * np.sin(theta)
    r0, c0 = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
    s = 0.4 * max(shape)
    field = field + 0.7 * np.exp(-((rr - r0) ** 2 + (cc - c0) ** 2) / (2 * s * s))
    field -= field.min()
    return amplitude * field / max(float(field.max()), 1e-12)
