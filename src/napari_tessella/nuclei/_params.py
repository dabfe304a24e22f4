"""The checks of :func:`napari_tessella.nuclei.seeded_watershed`'s parameters, shared by
the in-memory and the chunked watershed and by the saved-parameters loader: every bad
value is answered with a clear message before any work, and nothing here reads the
image's values."""

from __future__ import annotations

from .._validation import finite_number, seeds_kind, size_in_image
from ..threshold import threshold_spec


def _check_watershed_params(object_diameter, sigma, seeds, landscape, threshold, *,
                            shape=None, min_size=None) -> bool:
    """Validate the parameters of :func:`seeded_watershed`; True for threshold="auto".

    Every number must be finite; with the image ``shape``, ``object_diameter`` and
    ``sigma`` are bounded by the image's longest side and ``seeds`` are checked against it
    (see :func:`napari_tessella._validation.seeds_kind`). Nothing here reads the image's values.
    """
    if not isinstance(landscape, str) or landscape not in ("distance", "intensity"):
        raise ValueError(f"landscape must be 'distance' or 'intensity'; got {landscape!r}.")
    # a nucleus is at least a pixel across (a diameter of 1e-300 overflowed the steps)
    for name, value, least in (("object_diameter", object_diameter, 1), ("sigma", sigma, 0)):
        if value is None:
            continue
        if shape is None:
            finite_number(value, name, minimum=least, unit="pixels")
        else:
            size_in_image(value, name, shape, minimum=least)
    if min_size is not None:
        finite_number(min_size, "min_size", minimum=0, unit="pixels")
    if isinstance(seeds, str) and seeds != "regional_maxima":
        raise ValueError(
            f"seeds must be None, 'regional_maxima', points or labels; got {seeds!r}."
        )
    seeds_kind(seeds, shape)
    auto = isinstance(threshold, str) and threshold == "auto"
    if not auto:
        try:  # checked before any work; "auto" is this function's own method
            threshold_spec(threshold)
        except ValueError as err:
            raise ValueError(f"{err} Or 'auto' (the default).") from None
    return auto


def _check_threshold_in_image(threshold, img) -> None:
    """A threshold number below every pixel of ``img`` (finite, in memory) refused: every
    pixel is then foreground, and the "nuclei" were one object the size of the image, or
    its seeds' regions tiling it (a threshold typed for another image's units, e.g. 0.3
    for a 16-bit one). One above every pixel is left: an empty field of a batch run at
    one threshold has no nuclei, rightly."""
    if isinstance(threshold, str) or not img.size:
        return
    low = float(img.min())
    if float(threshold) < low:
        raise ValueError(
            f"threshold {float(threshold):g} is below every pixel of the image (its values "
            f"span {low:g} to {float(img.max()):g}): every pixel would be foreground. Give "
            "a number in the image's units within that range, or 'auto' (the default).")
