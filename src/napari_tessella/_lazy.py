"""Lazy (dask / Zarr) plumbing shared by every concept's chunked path.

What "large" means, how an input becomes a dask array, how a computation is scheduled
(local threads, a ``distributed.Client`` or a scheduler address) and the per-chunk
smoothing/threshold stage with overlap margins. Imports nothing of the package but
:mod:`._validation`.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy import ndimage as ndi

from ._validation import (
    LUMA,
    _check_plane_shape,
    _read_array,
    constant_reason,
    non_finite_pixels,
)

__all__ = ["DEFAULT_CHUNKS", "LARGE_PIXELS", "is_large", "is_lazy"]

#: Chunk shape, (rows, columns), used when a NumPy array is given without ``chunks=``.
DEFAULT_CHUNKS = (2048, 2048)

#: The one definition of a "large" image: planes with more pixels than this are processed
#: chunk by chunk by the widgets and the command line, and their label images are stored
#: as Zarr instead of being held in memory. The core functions themselves dispatch on the
#: input's type (:func:`is_lazy`): give them a dask or Zarr array to work in chunks.
LARGE_PIXELS = 2**26  # 8192 x 8192

_LAZY_MODULES = ("dask", "zarr", "xarray", "h5py", "tensorstore")


def is_lazy(x) -> bool:
    """Tell whether ``x`` is a lazy or on-disk array that should be processed in chunks.

    Parameters
    ----------
    x : object
        Anything passed as an image or label image.

    Returns
    -------
    bool
        True for dask arrays, Zarr arrays and similar chunked/on-disk arrays (anything
        whose type comes from dask, zarr, xarray, h5py or tensorstore and has ``shape``
        and ``dtype``); False for NumPy arrays, lists and everything else. Cheap: imports
        nothing.

    Examples
    --------
    >>> import numpy as np
    >>> is_lazy(np.zeros((4, 4)))
    False
    """
    if isinstance(x, np.ndarray):
        return False
    root = type(x).__module__.split(".", 1)[0]
    return root in _LAZY_MODULES and hasattr(x, "shape") and hasattr(x, "dtype")


def is_large(shape) -> bool:
    """Whether an image of this shape ((rows, columns[, ...])) is processed in chunks.

    Examples
    --------
    >>> is_large((10000, 10000)), is_large((1024, 1024))
    (True, False)
    """
    rows, cols = (int(s) for s in tuple(shape)[:2])
    return rows * cols > LARGE_PIXELS


def _as_dask(x, chunks, *, name: str):
    """Wrap ``x`` as a dask array (no data is read)."""
    import dask.array as da

    if isinstance(x, da.Array):
        arr = x if chunks is None else x.rechunk(_check_chunks(chunks, x.ndim))
    elif hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.ndarray):
        # zarr / h5py / xarray: read lazily, in the storage chunks unless told otherwise
        native = getattr(x, "chunks", None)
        if chunks is None and isinstance(native, tuple) and all(
            isinstance(c, Integral) for c in native
        ):
            use = native
        else:
            use = (_check_chunks(chunks, len(x.shape)) if chunks is not None
                   else _default_chunks(x.shape))
        arr = da.from_array(x, chunks=use)
    else:
        x = _read_array(x, name, "a rectangular array of numbers")  # a ragged list: ours
        arr = da.from_array(x, chunks=(_check_chunks(chunks, x.ndim) if chunks is not None
                                       else _default_chunks(x.shape)))
    dtype = arr.dtype
    if dtype != np.bool_ and not (
        np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    ):
        raise TypeError(f"{name} must hold real numbers (integers or floats); got dtype {dtype}.")
    return arr


def _default_chunks(shape):
    return tuple(DEFAULT_CHUNKS[: len(shape)]) + tuple(shape[2:])


def _on_storage_grid(chunks, step) -> bool:
    """Whether dask ``chunks`` tile a store whose chunks are ``step``: every chunk but the
    last of each axis exactly ``step``, the last no larger. Otherwise two tasks write parts
    of one storage chunk at once, and one of the two parts can be lost (each write reads,
    modifies and writes the whole storage chunk). ``(60, ..., 60, 100)`` under a ``100``
    step is not: its chunks straddle the store's."""
    return all(all(c == s for c in axis[:-1]) and axis[-1] <= s
               for axis, s in zip(chunks, step, strict=True))


def _check_chunks(chunks, ndim):
    """``chunks`` as dask takes them, or a clear error: "auto", a whole number of pixels
    (-1: the whole axis) or one per axis ((rows, columns); -1 or None: the whole axis)."""
    if isinstance(chunks, str) and chunks == "auto":
        return chunks
    what = ("chunks must be 'auto', a whole number of pixels or a (rows, columns) pair of "
            f"them; got {chunks!r}.")
    if isinstance(chunks, (str, bytes, bool, np.bool_)) or not (
            isinstance(chunks, Integral) or np.iterable(chunks)):
        raise TypeError(what)
    items = (chunks,) if isinstance(chunks, Integral) else tuple(chunks)
    for axis in items:
        if axis is None:
            continue
        # dask's explicit chunks, one size per block, too: ((200,), (60, 60, 100))
        explicit = isinstance(axis, (tuple, list))
        for c in (tuple(axis) if explicit else (axis,)):
            if isinstance(c, (bool, np.bool_)) or not isinstance(c, Integral):
                raise TypeError(what)
            if (c != -1 or explicit) and c < 1:
                raise ValueError(f"chunk sizes must be >= 1 pixel (-1: the whole axis); got "
                                 f"chunks={chunks!r}.")
    if isinstance(chunks, Integral):
        return int(chunks)
    if len(items) == 2 and ndim == 3:
        items = (*items, -1)
    if len(items) != ndim:
        raise ValueError(f"chunks must give one size per axis of the image ({ndim}); got "
                         f"chunks={chunks!r}.")
    return items


def _as_float_dask(image, chunks, *, name: str = "image", convert: bool = True):
    """Lazy counterpart of ``as_float_image``: shape and dtype checks, RGB → luminance.

    With ``convert=False`` a grey-level image keeps its dtype (the chunk pipeline converts
    after reading, so the overlap margins are exchanged in the compact stored dtype).
    """
    arr = _as_dask(image, chunks, name=name)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and arr.shape[0] > 4:
        ftype = _float_type(arr.dtype)
        luma = LUMA.astype(ftype)
        arr = arr.rechunk({2: -1}).map_blocks(
            lambda b: b[..., :3].astype(ftype) @ luma, drop_axis=2, dtype=ftype
        )
    _check_plane_shape(arr.shape, name)
    if convert and arr.dtype != np.float32 and arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    return arr


def _float_type(dtype):
    """float32 stays float32, every other dtype is processed as float64 (as in memory)."""
    return np.float32 if dtype == np.float32 else np.float64


def _first_pass(raw, *extra, scheduler=None):
    """The in-memory value checks of a lazy image in one pass over the data (NaN/inf
    pixels, constant image), computed together with the lazy values ``extra``.

    Returns ``(min, max, *extra)``; raises as :func:`_check_values`.
    """
    import dask.array as da

    n_bad = (~da.isfinite(raw)).sum() if np.issubdtype(raw.dtype, np.floating) else 0
    lo, hi, n_bad, *rest = _compute(raw.min(), raw.max(), n_bad, *extra, scheduler=scheduler)
    _check_values(lo, hi, n_bad)
    return (lo, hi, *rest)


def _check_values(lo, hi, n_bad, *, name="image", allow_constant=False):
    if n_bad:
        raise non_finite_pixels(name, n_bad)
    if not allow_constant and (why := constant_reason(lo, hi)):
        raise ValueError(f"{name} is {why}: no threshold can separate objects.")



# --------------------------------------------------------------------------------------
# scheduling

_CLIENTS: dict = {}


#: How long to wait for a dask.distributed scheduler before giving up.
CONNECT_TIMEOUT = "10s"


def _resolve_scheduler(scheduler):
    """Turn a distributed address into a Client; pass everything else to dask.compute."""
    is_address = isinstance(scheduler, str) and (
        "://" in scheduler or (":" in scheduler and scheduler.rsplit(":", 1)[1].isdigit())
    )
    if is_address:
        if scheduler not in _CLIENTS:
            try:
                from distributed import Client
            except ImportError:
                raise ValueError(
                    f"scheduler address {scheduler!r} needs dask.distributed; install it with "
                    "`pip install distributed`."
                ) from None
            try:
                _CLIENTS[scheduler] = Client(scheduler, set_as_default=False,
                                             timeout=CONNECT_TIMEOUT)
            except OSError as err:
                raise ValueError(
                    f"cannot connect to the dask scheduler at {scheduler!r}: {err}"
                ) from None
        return _CLIENTS[scheduler]
    return scheduler


def _is_local(scheduler) -> bool:
    """Whether computations run in this process's memory (threads or synchronously).

    Only then may a graph carry large in-memory arrays for free; a process pool or a
    ``dask.distributed`` cluster would have every such array pickled and shipped.
    """
    import dask
    from dask.base import get_scheduler

    sched = _resolve_scheduler(scheduler)
    get = get_scheduler(scheduler=sched) if sched is not None else get_scheduler()
    return get is None or get in (dask.threaded.get, dask.local.get_sync)


def _client(scheduler):
    """The ``distributed.Client`` that ``scheduler`` names, or None (a local scheduler)."""
    sched = _resolve_scheduler(scheduler)
    if sched is None or isinstance(sched, str):
        return None
    try:
        from distributed import Client
    except ImportError:  # a custom scheduler callable without dask.distributed
        return None
    return sched if isinstance(sched, Client) else None


def _settle(task, scheduler):
    """The (small) result of the Delayed ``task``, for later graphs to use.

    On a ``dask.distributed`` cluster it stays there: persisted, and returned as a Delayed
    that later graphs name. Tables that grow with the number of objects (the stitching's
    label look-up tables: 1.4 MiB for 360,000 objects) were put in the graph, and made it
    grow without bound; persisted, they are recomputed from their own graph if a worker is
    lost. Elsewhere the task is computed here and its value returned (an in-process graph
    carries it for free). Either way ``result[k]`` names its ``k``-th part.
    """
    return _settle_all([task], scheduler)[0]


def _settle_all(tasks, scheduler) -> list:
    """:func:`_settle` of several Delayed at once (their shared work done once); on a
    cluster each stays on the worker that computed it."""
    client = _client(scheduler)
    if client is not None:
        return list(client.persist(list(tasks)))
    return list(_compute(*tasks, scheduler=scheduler))


def _compute(*objects, scheduler=None):
    import dask

    sched = _resolve_scheduler(scheduler)
    if sched is None:
        return dask.compute(*objects)
    return dask.compute(*objects, scheduler=sched)



# --------------------------------------------------------------------------------------
# per-chunk filtering with overlap margins

def _gaussian_radius(sigma: float) -> int:
    return int(4.0 * float(sigma) + 0.5)  # scipy.ndimage.gaussian_filter, truncate=4.0


def _chunk_pipeline(block, block_id=None, *, grid, depth, ftype, sigma, value, dark,
                    opening):
    """Smooth (and threshold and open) one chunk read with its margins, then crop them.

    Chunks on the image border have no margin on that side, so there scipy's own border
    handling applies, exactly as in memory: ``reflect`` for the Gaussian, background
    outside the image for the opening. Inside the image the margin (Gaussian radius +
    opening size) absorbs the errors those border modes make at the margin's edge.
    """
    img = block.astype(ftype, copy=False)
    if sigma > 0:
        img = ndi.gaussian_filter(img, sigma)
    if value is None:
        out = img
    else:
        out = img < value if dark else img > value
        if opening > 1:
            out = ndi.binary_opening(out, structure=np.ones((opening, opening), dtype=bool))
    i, j = block_id
    top = depth if i > 0 else 0
    bottom = depth if i < grid[0] - 1 else 0
    left = depth if j > 0 else 0
    right = depth if j < grid[1] - 1 else 0
    return out[top : out.shape[0] - bottom, left : out.shape[1] - right]


def _lazy_stage(raw, sigma, value=None, dark_objects=False, opening=0):
    """Lazy smoothed image (``value=None``) or object mask, one fused task per chunk."""
    import dask.array as da
    from dask.array.overlap import ensure_minimum_chunksize

    opening = int(opening) if value is not None and opening > 1 else 0
    depth = (_gaussian_radius(sigma) if sigma > 0 else 0) + opening
    if depth:
        chunks = tuple(ensure_minimum_chunksize(depth, c) for c in raw.chunks)
        if chunks != raw.chunks:
            raw = raw.rechunk(chunks)
        padded = da.overlap.overlap(raw, depth={0: depth, 1: depth},
                                    boundary={0: "none", 1: "none"})
    else:
        padded = raw
    ftype = _float_type(raw.dtype)
    return padded.map_blocks(
        _chunk_pipeline, chunks=raw.chunks, dtype=ftype if value is None else bool,
        grid=raw.numblocks, depth=depth, ftype=ftype, sigma=float(sigma), value=value,
        dark=bool(dark_objects), opening=opening,
    )
