"""Small synthetic shapes the nuclei tests draw objects with: a filled ellipse and a
Gaussian spot of light."""

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
