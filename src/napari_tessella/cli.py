"""``tessella``: run the napari-tessella recipes on many images from the command line.

Examples
--------
Label bright objects in every TIFF of a folder, smoothing first::

    tessella threshold-label data/*.tif --smooth-sigma 1 --opening 3 --out results

Reuse parameters saved from the napari widget, overriding one of them::

    tessella lattice stem.png --params lattice.json --min-size 10 --out results

A gigapixel mosaic stored as Zarr is processed chunk by chunk (automatically)::

    tessella threshold-label mosaic.zarr --threshold otsu --out results

Every run writes, per input, label images (TIFF; Zarr for chunked runs) and CSV tables
to ``--out``. Errors in one file do not stop the batch: they are listed at the end and
the exit code is 1. Bad options exit with code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import glob
import inspect
import re
import sys
import time
from pathlib import Path

import numpy as np

from . import params as _params

__all__ = ["CHUNKED_PIXELS", "main"]

#: Images with more pixels than this are processed chunk by chunk (as with ``--chunked``).
CHUNKED_PIXELS = 2**26  # 8192 x 8192

_IMAGE_SUFFIXES = (".tif", ".tiff", ".png")
_ZARR_SUFFIX = ".zarr"

#: subcommand → (operation in params.py, one-line help)
_COMMANDS = {
    "threshold-label": ("threshold_label", "threshold, label and measure objects"),
    "watershed": ("seeded_watershed", "split touching nuclei with a seeded watershed"),
    "lattice": ("lattice", "threshold_label → object centres → Delaunay/Voronoi lattice"),
    "atoms": ("find_atoms", "find atom columns and refine their positions"),
}
#: operations that can run chunk by chunk
_CHUNKED_OPERATIONS = ("threshold_label", "lattice", "seeded_watershed", "find_atoms")


class _UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


# --------------------------------------------------------------------------------------
# argument parsing


def _number_or_name(text: str):
    """``"0.5"`` → 0.5, ``"otsu"`` → ``"otsu"``, ``"none"`` → None."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and re.fullmatch(r"[+-]?\d+", text.strip()) else value


def _param_help(func) -> dict:
    """First sentence of each parameter's numpydoc description."""
    doc = inspect.getdoc(func) or ""
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S | re.M)
    if not match:
        return {}
    out, names, text = {}, [], []

    def flush():
        joined = re.sub(r":\w+:`~?([^`]+)`", r"\1", " ".join(text))
        sentence = re.split(r"(?<=[a-z0-9)])\.\s+(?=[A-Z])", joined)[0].strip().rstrip(".")
        for n in names:
            out[n] = sentence
    for line in match.group(1).splitlines():
        if line and not line.startswith(" "):
            flush()
            names = [n.strip() for n in line.split(":")[0].split(",")]
            text = []
        elif line.strip():
            text.append(line.strip())
    flush()
    return {k: v.replace("%", "%%") for k, v in out.items()}


def _available(operation: str) -> bool:
    try:
        _params.operation_defaults(operation)
    except ValueError:
        return False
    return True


def _add_operation_options(parser, operation: str):
    """One option per parameter of the core function, named and typed after it."""
    defaults = _params.operation_defaults(operation)
    module, name, _ = _params._REGISTRY[operation]
    func = getattr(__import__(f"napari_tessella.{module}", fromlist=[name]), name)
    helps = _param_help(func)
    if "threshold" in helps:
        from .segmentation import THRESHOLD_METHODS

        helps["threshold"] = (f"method name ({', '.join(THRESHOLD_METHODS)}) or a number in "
                              "image units")
    helps.setdefault("centre", "lattice points: intensity-weighted centre of mass ('com') or "
                               "geometric centroid ('centroid')")
    group = parser.add_argument_group(f"{operation} parameters (default: the function's)")
    for pname, default in defaults.items():
        flag = "--" + pname.replace("_", "-")
        text = f"{helps.get(pname, '')} (default: {default!r})".strip()
        if isinstance(default, bool):
            group.add_argument(flag, dest=pname, action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=text)
        elif isinstance(default, int):
            group.add_argument(flag, dest=pname, type=int, default=argparse.SUPPRESS,
                               metavar="N", help=text)
        elif isinstance(default, float):
            group.add_argument(flag, dest=pname, type=float, default=argparse.SUPPRESS,
                               metavar="X", help=text)
        elif pname == "centre":
            group.add_argument(flag, dest=pname, choices=["com", "centroid"],
                               default=argparse.SUPPRESS, help=text)
        else:  # names or numbers (threshold), numbers or None (diameters)
            group.add_argument(flag, dest=pname, type=_number_or_name,
                               default=argparse.SUPPRESS, metavar="VALUE", help=text)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tessella",
        description="Batch segmentation and lattice analysis of 2-D images (napari-tessella).",
        epilog="Run `tessella COMMAND --help` for the options of one command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command, (operation, help_text) in _COMMANDS.items():
        if not _available(operation):
            continue
        p = sub.add_parser(command, help=help_text, description=help_text)
        p.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="image files (TIFF, PNG), Zarr arrays, folders or glob patterns")
        p.add_argument("--out", default="tessella-results", metavar="DIR",
                       help="output folder, created if needed (default: tessella-results)")
        p.add_argument("--params", metavar="FILE",
                       help="parameters file (JSON, from the napari widget or "
                            "napari_tessella.params); options given here override it")
        p.add_argument("--pixel-size", type=float, default=1.0, metavar="X",
                       help="pixel size for physical-unit columns and TIFF resolution")
        p.add_argument("--unit", default="", help="unit of --pixel-size, e.g. nm or um")
        if operation in _CHUNKED_OPERATIONS:
            p.add_argument("--chunked", action="store_true",
                           help="process chunk by chunk with dask (automatic for Zarr inputs "
                                f"and images above {CHUNKED_PIXELS:,} pixels)")
            p.add_argument("--chunks", type=int, metavar="N",
                           help="chunk side in pixels for --chunked (default: the Zarr "
                                "chunks, or 2048)")
            p.add_argument("--scheduler", metavar="ADDRESS",
                           help="dask.distributed scheduler address (tcp://host:port) for "
                                "chunked processing; implies --chunked")
        p.add_argument("--quiet", action="store_true", help="no progress output")
        _add_operation_options(p, operation)
        p.set_defaults(operation=operation)
    return parser


# --------------------------------------------------------------------------------------
# inputs


def _is_zarr(path: Path) -> bool:
    return path.is_dir() and (
        path.suffix.lower() == _ZARR_SUFFIX
        or any((path / f).exists() for f in (".zarray", ".zgroup", "zarr.json"))
    )


def _expand_inputs(inputs) -> list[Path]:
    """Files, Zarr stores, folders (their images, not recursive) and glob patterns."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_file() or _is_zarr(path):
            found.append(path)
        elif path.is_dir():
            inside = sorted(
                p for p in path.iterdir()
                if (p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES) or _is_zarr(p)
            )
            if not inside:
                raise _UsageError(f"folder {item} holds no TIFF, PNG or Zarr images")
            found += inside
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            matches = [m for m in matches if m.is_file() or _is_zarr(m)]
            if not matches:
                raise _UsageError(f"no files match {item!r}")
            found += matches
        else:
            raise _UsageError(f"input not found: {item}")
    unique, seen = [], set()
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _open_zarr(path: Path):
    import zarr

    node = zarr.open(str(path), mode="r")
    if hasattr(node, "shape"):
        return node
    keys = sorted(node.array_keys())
    if "0" in keys:  # OME-Zarr: full-resolution level
        return node["0"]
    if len(keys) == 1:
        return node[keys[0]]
    raise ValueError(f"Zarr group holds {len(keys)} arrays ({', '.join(keys) or 'none'}); "
                     "give the path of one array")


def _read(path: Path):
    """The image of one input: a NumPy array, or a Zarr array for Zarr stores."""
    if _is_zarr(path):
        return _open_zarr(path)
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        import tifffile

        return tifffile.imread(path)
    if suffix in (".png",):
        from skimage.io import imread

        return imread(path)
    raise ValueError(f"unsupported file type {path.suffix!r} (use TIFF, PNG or Zarr)")


# --------------------------------------------------------------------------------------
# running one input


def _core_params(operation: str, params: dict) -> dict:
    return {k: v for k, v in params.items() if k != "centre"}


def _segment(image, operation, params, chunked, chunks, scheduler, labels_path=None):
    """threshold_label (in memory or chunked) and the per-object table.

    Returns the labels (a NumPy array, or None when they went straight to the Zarr
    ``labels_path`` chunk by chunk) and the table.
    """
    from .segmentation import measure_objects, threshold_label

    kwargs = _core_params(operation, params)
    if not chunked:
        labels = threshold_label(image, **kwargs)
        return labels, measure_objects(labels, image)
    from . import chunked as ck

    lazy = ck.threshold_label_chunked(image, chunks=chunks, scheduler=scheduler, **kwargs)
    if labels_path is None:  # small enough to hold the labels (not the intermediates)
        (labels,) = ck._compute(lazy, scheduler=scheduler)
        table = ck.measure_objects_chunked(labels, image, chunks=lazy.chunksize,
                                           scheduler=scheduler)
        return labels, table
    import zarr

    target = zarr.open_array(str(labels_path), mode="w", shape=lazy.shape,
                             chunks=lazy.chunksize, dtype=np.int32)
    # one pass: each chunk of labels is measured and written to the Zarr
    table = ck.measure_objects_chunked(lazy, image, scheduler=scheduler, labels_out=target)
    return None, table


def _run_one(path: Path, stem: str, args, params: dict) -> list[Path]:
    from .export import save_table

    operation = args.operation
    scale = (args.pixel_size, args.pixel_size)
    unit = args.unit
    out = Path(args.out)
    image = _read(path)
    pixels = int(np.prod(image.shape[:2]))
    chunked = operation in _CHUNKED_OPERATIONS and (
        getattr(args, "chunked", False) or getattr(args, "scheduler", None) is not None
        or not isinstance(image, np.ndarray) or pixels > CHUNKED_PIXELS
    )
    if not isinstance(image, np.ndarray) and not chunked:
        image = np.asarray(image)
    scheduler = getattr(args, "scheduler", None)
    chunks = getattr(args, "chunks", None)
    written = []

    if operation == "threshold_label":
        from .export import save_labels

        big = pixels > CHUNKED_PIXELS
        zarr_path = out / f"{stem}_labels.zarr" if big else None
        labels, table = _segment(image, operation, params, chunked, chunks, scheduler, zarr_path)
        if big:
            written.append(zarr_path)
        else:
            written.append(save_labels(labels, out / f"{stem}_labels.tif", scale=scale,
                                       unit=unit))
        written.append(save_table(table, out / f"{stem}_objects.csv", scale=scale, unit=unit))
    elif operation == "lattice":
        from .lattice import lattice

        _labels, table = _segment(image, operation, params, chunked, chunks, scheduler)
        centre = params.get("centre", "com")
        cols = ["com_row", "com_col"] if centre == "com" else ["centroid_row", "centroid_col"]
        points = table[cols].to_numpy()
        if len(points) < 3:
            raise ValueError(f"found {len(points)} object(s); a lattice needs at least 3")
        shape = tuple(image.shape[:2])
        with_map = not chunked or pixels <= CHUNKED_PIXELS
        result = lattice(points, shape if with_map else None)
        table = table.assign(cell_area=result.cell_areas)
        written.append(save_table(table, out / f"{stem}_points.csv", scale=scale, unit=unit))
        written.append(save_table(_edge_table(result, table), out / f"{stem}_edges.csv"))
        if with_map:
            from .export import save_labels

            written.append(save_labels(result.voronoi_labels, out / f"{stem}_voronoi.tif",
                                       scale=scale, unit=unit))
        else:
            print(f"tessella: note: {path}: Voronoi pixel map skipped (image too large "
                  "to hold it in memory); points and edges written", file=sys.stderr)
    elif operation == "seeded_watershed":
        from .export import save_labels
        from .nuclei import seeded_watershed
        from .segmentation import measure_objects

        if chunked:
            from . import chunked as ck

            result = ck.seeded_watershed_chunked(image, chunks=chunks, scheduler=scheduler,
                                                 **params)
            if pixels > CHUNKED_PIXELS:  # straight to Zarr, chunk by chunk
                import dask.array as da
                import zarr

                paths = [out / f"{stem}_labels.zarr", out / f"{stem}_territories.zarr"]
                # both in one pass (each chunk is segmented once), then measured from disk
                lazy = [result.labels, result.territories]
                targets = [zarr.open_array(str(p), mode="w", shape=a.shape, chunks=a.chunksize,
                                           dtype=np.int32) for p, a in zip(paths, lazy,
                                                                            strict=True)]
                ck._compute(da.store(lazy, targets, lock=False, compute=False),
                            scheduler=scheduler)
                table = ck.measure_objects_chunked(da.from_zarr(targets[0]), image,
                                                   scheduler=scheduler)
                written += paths
                written.append(save_table(table, out / f"{stem}_objects.csv", scale=scale,
                                          unit=unit))
                return written
            labels, territories = ck._compute(result.labels, result.territories,
                                              scheduler=scheduler)
            image = np.asarray(image)
        else:
            image = np.asarray(image)
            result = seeded_watershed(image, **params)
            labels, territories = result.labels, result.territories
        written.append(save_labels(labels, out / f"{stem}_labels.tif", scale=scale, unit=unit))
        written.append(save_labels(territories, out / f"{stem}_territories.tif", scale=scale,
                                   unit=unit))
        table = measure_objects(labels, image)
        written.append(save_table(table, out / f"{stem}_objects.csv", scale=scale, unit=unit))
    elif operation == "find_atoms":
        from .atoms import find_atoms

        if chunked:
            from .chunked import find_atoms_chunked

            result = find_atoms_chunked(image, chunks=chunks, scheduler=scheduler, **params)
        else:
            result = find_atoms(np.asarray(image), **params)
        table = result.table
        written.append(save_table(table, out / f"{stem}_atoms.csv", scale=scale, unit=unit))
    return written


def _edge_table(result, table):
    import pandas as pd

    a, b = result.edges[:, 0], result.edges[:, 1]
    labels = table["label"].to_numpy()
    pts = result.points
    return pd.DataFrame({
        "point_a": a, "point_b": b,
        "label_a": labels[a], "label_b": labels[b],
        "row_a": pts[a, 0], "col_a": pts[a, 1], "row_b": pts[b, 0], "col_b": pts[b, 1],
        "length": result.edge_lengths,
    })


def _stems(paths: list[Path]) -> list[str]:
    """Output name per input; repeated names get -2, -3, ... so nothing is overwritten."""
    seen: dict[str, int] = {}
    out = []
    for p in paths:
        stem = p.stem if p.suffix.lower() != _ZARR_SUFFIX else p.name[: -len(_ZARR_SUFFIX)]
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return out


def _progress(items, quiet: bool):
    if quiet:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, desc="tessella", unit="image", file=sys.stderr)


def _merge_parameters(args) -> dict:
    params: dict = {}
    if args.params:
        operation, params = _params.load_parameters(args.params)
        # threshold_label and lattice share their segmentation parameters
        compatible = {operation, args.operation} == {"threshold_label", "lattice"}
        if compatible and args.operation == "threshold_label":
            params.pop("centre", None)
        if operation != args.operation and not compatible:
            raise _UsageError(
                f"{args.params} holds parameters for {operation}, not {args.operation}"
            )
    defaults = _params.operation_defaults(args.operation)
    cli = {k: getattr(args, k) for k in defaults if hasattr(args, k)}
    params.update(cli)
    return _params._check_parameters(args.operation, params, "options")


def _check_before_work(operation: str, params: dict):
    """Reject out-of-range parameters once, before any file is read."""
    if operation in ("threshold_label", "lattice"):
        from .chunked import _check_threshold, _validate_segmentation_params

        p = {**_params.operation_defaults("threshold_label"), **_core_params(operation, params)}
        _validate_segmentation_params(p["smooth_sigma"], p["opening"], p["connectivity"],
                                      p["min_size"])
        _check_threshold(p["threshold"])


def main(argv: list[str] | None = None) -> int:
    """Run the ``tessella`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 if any input failed (the others are still processed), 2 for a
        usage error (bad option, missing input, bad parameters file).
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or argparse's own usage error (already printed)
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        params = _merge_parameters(args)
        _check_before_work(args.operation, params)
        if getattr(args, "chunks", None) is not None and args.chunks < 16:
            raise _UsageError(f"--chunks must be at least 16 pixels; got {args.chunks}")
        if args.pixel_size <= 0:
            raise _UsageError(f"--pixel-size must be > 0; got {args.pixel_size}")
        paths = _expand_inputs(args.inputs)
        if getattr(args, "scheduler", None):
            from .chunked import _resolve_scheduler

            _resolve_scheduler(args.scheduler)  # connect once, now: fail before any work
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    except (_UsageError, ValueError, TypeError, OSError) as err:
        print(f"tessella {args.command}: error: {err}", file=sys.stderr)
        return 2

    failures: list[tuple[Path, str]] = []
    start = time.perf_counter()
    stems = _stems(paths)
    bar = _progress(list(zip(paths, stems, strict=True)), args.quiet)
    has_bar = bar is not None and not isinstance(bar, list)
    for i, (path, stem) in enumerate(bar, 1):
        t0 = time.perf_counter()
        try:
            written = _run_one(path, stem, args, params)
        except KeyboardInterrupt:
            print("tessella: interrupted", file=sys.stderr)
            return 130
        except Exception as err:  # one bad file must not stop the batch
            message = str(err).strip() or type(err).__name__
            failures.append((path, f"{type(err).__name__}: {message}"))
            if not args.quiet and not has_bar:
                print(f"[{i}/{len(paths)}] {path}: FAILED ({message})", file=sys.stderr)
            continue
        if not args.quiet and not has_bar:
            names = ", ".join(p.name for p in written)
            print(f"[{i}/{len(paths)}] {path} -> {names} ({time.perf_counter() - t0:.1f} s)",
                  file=sys.stderr)
    elapsed = time.perf_counter() - start
    done = len(paths) - len(failures)
    if not args.quiet:
        print(f"tessella {args.command}: {done} of {len(paths)} input(s) done in "
              f"{elapsed:.1f} s; results in {Path(args.out)}", file=sys.stderr)
    if failures:
        print(f"tessella {args.command}: {len(failures)} input(s) failed:", file=sys.stderr)
        for path, message in failures:
            print(f"  {path}: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
