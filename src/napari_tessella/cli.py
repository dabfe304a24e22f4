"""``tessella``: run the napari-tessella recipes on many images from the command line.

Examples
--------
Label bright objects in every TIFF of a folder, smoothing first::

    tessella threshold-label data/*.tif --smooth-sigma 1 --opening 3 --out results

Reuse parameters saved by the Threshold & label widget (*Save*), overriding one of them;
its file serves ``threshold-label`` and ``lattice`` alike::

    tessella lattice stem.png --params threshold_label.json --min-size 10 --out results

A gigapixel mosaic stored as Zarr is processed chunk by chunk (automatically)::

    tessella threshold-label mosaic.zarr --threshold otsu --out results

Every run writes, per input, label images (TIFF; Zarr for chunked runs) and CSV tables
to ``--out``. Errors in one file do not stop the batch: they are listed at the end and
the exit code is 1. Bad options exit with code 2 and one line on stderr.

Outputs are atomic per input: everything is first written to a hidden folder
``--out/.<name>.tessella-partial`` and moved into ``--out`` only when the input is
complete, its main table (``<name>_objects.csv``, ``_points.csv`` or ``_atoms.csv``) last.
So a failed or interrupted input leaves nothing that looks like a result, and the main
table's presence means the input is done (``--skip-existing`` relies on it).
"""

from __future__ import annotations

import argparse
import glob
import inspect
import math
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

from . import params as _params
from ._lazy import LARGE_PIXELS, _resolve_scheduler
from ._validation import (
    AdvisedError,
    LengthError,
    _in_pixels,
    advice_by_topic,
    first_line,
    pixel_size_reason,
)
from .reading import (
    IMAGE_SUFFIXES,
    _is_pixel_unit,
    is_zarr,
    ngff_unit,
    open_image,
    read_pixel_size,
)
from .recipes import RECIPES, prepare_image, run_recipe, save_results
from .threshold import THRESHOLD_METHODS

__all__ = ["main"]

_ZARR_SUFFIX = ".zarr"

#: subcommand → operation (a key of napari_tessella.recipes.RECIPES)
_COMMANDS = {
    "threshold-label": "threshold_label",
    "watershed": "seeded_watershed",
    "lattice": "lattice",
    "atoms": "find_atoms",
}


class _UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


#: Exit codes, as documented in ``tessella --help``.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_EXIT_HELP = """exit codes:
  0    every input done (or skipped by --skip-existing)
  1    some inputs failed; the others are done and the failures are listed at the end
  2    bad options, parameters or inputs, found before any file is read
  130  interrupted (Ctrl-C or SIGTERM): the input in progress leaves no output

Each input's outputs are written to a hidden folder in --out and moved into --out only
once complete (its main CSV table last), so a partial output never looks complete."""

#: The table each operation writes last: its presence means the input is complete.
_MAIN_TABLE = {"threshold_label": "objects", "seeded_watershed": "objects",
               "lattice": "points", "find_atoms": "atoms"}


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


def _flag(name: str) -> str:
    """The command-line option of a core keyword: ``min_size`` → ``--min-size``."""
    return "--" + name.replace("_", "-")


#: the core's advice (:class:`~napari_tessella._validation.AdvisedError`) by its topic, in
#: the words of a user of the command line ("{doing}": the error's own blank); the
#: widgets' table is ``_widgets._errors._VIEWER_ADVICE``, the core's ``_validation.ADVICE``
_CLI_ADVICE = advice_by_topic(
    non_finite="give such pixels a value before {doing} and save the image again: chunk by "
               "chunk they cannot be read as outside the image (in memory they are).",
    duplicate_points="they lie on top of one another: each point must be given once.",
    stack="the command line takes one plane per file: save each plane as a file of its "
          "own, or open the stack in napari.",
    no_lattice="give --separation instead.",
    few_columns="give --separation or --threshold.",
    several_images="name the one to read with --series: its number (0 to {last}) or its "
                   "name.",
)


def _in_cli_words(err: BaseException, operation: str) -> str:
    """A core error's first line as the command line's user reads it, without Python.

    From the error's parts where it has them: an :class:`AdvisedError`'s refusal and its
    topic's advice in :data:`_CLI_ADVICE`; a :class:`LengthError`'s lengths named by their
    option ("--separation 40 pixels is larger than the image"). Any other message names
    a keyword as the subject of its check in its text ("min_size must be >= 0", from the
    core's ~60 checks of a number by its name), rewritten here as the option
    ("--min-size must be >= 0"). A keyword of one plain word (threshold, separation) is an
    option only there: elsewhere it is English ("no threshold can ...")."""
    if isinstance(err, AdvisedError) and (said := _CLI_ADVICE.get(err.topic)) is not None:
        return f"{_as_flags(err.what, operation)}: {said.format(**err.words)}"
    if isinstance(err, LengthError):
        flag = _flag(err.name)
        return first_line(err.in_units(_in_pixels, the=flag, named=flag + " "))
    return _as_flags(first_line(err, type(err).__name__), operation)


def _as_flags(message: str, operation: str) -> str:
    """The keywords of ``operation`` that ``message`` names as the subject of a check (or,
    with an underscore, anywhere) as their options: what the error's parts cannot say."""
    for name in _params.operation_defaults(operation):
        alone = rf"(?<![\w'-]){name}(?![\w'])" if "_" in name else \
            rf"(?:^|(?<=[:;] )){name}(?= must\b| of find atoms)"
        message = re.sub(alone, _flag(name), message)
    return message


def _as_options(operation: str, check, *args, **kwargs):
    """``check(*args, **kwargs)`` with its errors in the command line's words."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as err:
        kind = TypeError if isinstance(err, TypeError) else ValueError  # (a LengthError)
        raise kind(_in_cli_words(err, operation)) from err


def _add_operation_options(parser, operation: str):
    """One option per parameter of the core function, named and typed after it."""
    defaults = _params.operation_defaults(operation)
    helps = _param_help(RECIPES[operation].function)
    if "threshold" in helps and operation != "find_atoms":  # atoms: a number only
        auto = "'auto', a " if operation == "seeded_watershed" else ""
        helps["threshold"] = (f"{auto}method name ({', '.join(THRESHOLD_METHODS)}) or a "
                              "number in image units")
    elif "threshold" in helps:
        helps["threshold"] += " (a number, or none; not a method name)"
    helps.setdefault("centre", "lattice points: intensity-weighted centre of mass ('com') or "
                               "geometric centroid ('centroid')")
    group = parser.add_argument_group(f"{operation} parameters (default: the function's)")
    for pname, default in defaults.items():
        flag = _flag(pname)
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
        epilog="Run `tessella COMMAND --help` for the options of one command.\n\n"
               + _EXIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command, operation in _COMMANDS.items():
        help_text = RECIPES[operation].summary
        p = sub.add_parser(command, help=help_text, description=help_text,
                           epilog=_EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("inputs", nargs="+", metavar="INPUT",
                       help="image files (TIFF, PNG), Zarr arrays, folders or glob patterns")
        p.add_argument("--out", default="tessella-results", metavar="DIR",
                       help="output folder, created if needed (default: tessella-results)")
        p.add_argument("--params", metavar="FILE",
                       help="parameters file (JSON, from the napari widget or "
                            "napari_tessella.params); options given here override it")
        p.add_argument("--series", default=None, metavar="N",
                       help="the image to read of a TIFF that holds several of one size "
                            "(a multi-position OME-TIFF): its number, from 0, or its "
                            "name (default: the file's main image; a slide's label, "
                            "macro and thumbnail images are never taken for it)")
        p.add_argument("--pixel-size", type=float, default=None, metavar="X",
                       help="pixel size for physical-unit columns, TIFF resolution and "
                            "OME-Zarr scale (default: from the file's metadata, else 1)")
        p.add_argument("--unit", default=None,
                       help="unit of the pixel size, e.g. nm or um (default: the file's)")
        p.add_argument("--chunked", action="store_true",
                       help="process chunk by chunk with dask (automatic for images above "
                            f"{LARGE_PIXELS:,} pixels)")
        p.add_argument("--chunks", type=int, metavar="N",
                       help="chunk side in pixels for --chunked (default: the Zarr "
                            "chunks, or 2048)")
        p.add_argument("--scheduler", metavar="ADDRESS",
                       help="dask.distributed scheduler address (tcp://host:port) for "
                            "chunked processing; implies --chunked")
        p.add_argument("--quiet", action="store_true", help="no progress output")
        p.add_argument("--skip-existing", action="store_true",
                       help="skip inputs whose outputs are already complete in --out "
                            "(their main CSV table exists)")
        _add_operation_options(p, operation)
        p.set_defaults(operation=operation)
    return parser


# --------------------------------------------------------------------------------------
# inputs


def _expand_inputs(inputs) -> list[Path]:
    """Files, Zarr stores, folders (their images, not recursive) and glob patterns."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_file() or is_zarr(path):
            found.append(path)
        elif path.is_dir():
            inside = sorted(
                p for p in path.iterdir()
                if (p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES) or is_zarr(p)
            )
            if not inside:
                raise _UsageError(f"folder {item} holds no TIFF, PNG or Zarr images")
            found += inside
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            matches = [m for m in matches if m.is_file() or is_zarr(m)]
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


def _partial_folder(out: Path, stem: str) -> Path:
    return out / f".{stem}.tessella-partial"


def _main_table(out: Path, stem: str, operation: str) -> Path:
    return out / f"{stem}_{_MAIN_TABLE[operation]}.csv"


def _remove(path: Path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _publish(written: list[Path], out: Path, main_table: Path) -> list[Path]:
    """Move finished outputs from the partial folder into ``out``, the main table last
    (an older main table is removed first, so an interrupted move never looks complete)."""
    _remove(main_table)
    order = sorted(written, key=lambda p: p.name == main_table.name)
    final = []
    for src in order:
        target = out / src.name
        _remove(target)
        os.replace(src, target)
        final.append(target)
    return final


def _run_one(path: Path, stem: str, args, params: dict) -> list[Path]:
    """One input through its recipe, written atomically; returns the files written."""
    chunked = True if (getattr(args, "chunked", False)
                       or getattr(args, "scheduler", None) is not None) else None
    out = Path(args.out)
    partial = _partial_folder(out, stem)
    _remove(partial)  # left by a killed run: never a result
    partial.mkdir(parents=True)
    try:
        # on a cluster the workers read the file themselves: only its path enters the graph
        lazy = True if getattr(args, "scheduler", None) is not None else None
        series = getattr(args, "series", None)
        image = prepare_image(open_image(path, lazy=lazy, series=series), chunked=chunked,
                              chunks=getattr(args, "chunks", None))
        scale, unit = _pixel_size(path, args)
        result = run_recipe(args.operation, image, params,
                            scheduler=getattr(args, "scheduler", None), store=partial,
                            stem=stem, scale=scale, unit=unit)
        if "skipped" in result.message:
            print(f"tessella: note: {path}: {result.message.split('; ', 1)[1]}",
                  file=sys.stderr)
        if result.said:  # NaN or infinite pixels (a mosaic's padding): outside the image
            print(f"tessella: note: {path}: {result.said}", file=sys.stderr)
        written = save_results(result, partial, scale=scale, unit=unit)
        return _publish(written, out, _main_table(out, stem, args.operation))
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _pixel_size(path: Path, args) -> tuple[tuple[float, float], str]:
    """The file's pixel size and unit (OME / TIFF metadata); --pixel-size / --unit win."""
    found = read_pixel_size(path, series=getattr(args, "series", None))
    scale, unit = (tuple(found.scale), found.unit) if found else ((1.0, 1.0), "")
    if getattr(args, "pixel_size", None) is not None:
        scale = (args.pixel_size, args.pixel_size)
    if getattr(args, "unit", None) is not None:
        unit = args.unit
    return scale, unit


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
    return _as_options(args.operation, _params._check_parameters, args.operation, params,
                       "options")


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
        usage error (bad option or parameter, missing input, bad parameters file), found
        before any file is read; 130 when interrupted (Ctrl-C, SIGTERM).
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or argparse's own usage error (already printed)
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        params = _merge_parameters(args)
        _as_options(args.operation, _params.check_values, args.operation, params)
        if getattr(args, "chunks", None) is not None and args.chunks < 16:
            raise _UsageError(f"--chunks must be at least 16 pixels; got {args.chunks}")
        if args.pixel_size is not None and not (math.isfinite(args.pixel_size)
                                                and args.pixel_size > 0):
            raise _UsageError(f"--pixel-size must be a finite number > 0; got "
                              f"{args.pixel_size}")
        if args.pixel_size is not None and (why := pixel_size_reason(args.pixel_size)):
            raise _UsageError(f"--pixel-size {args.pixel_size:g}: {why}")
        if not (args.unit is None or _is_pixel_unit(args.unit) or ngff_unit(args.unit)):
            # a typo ("nmm") was written into every table's column names and TIFF
            raise _UsageError(f"--unit {args.unit!r} is not a unit of length tessella "
                              "knows: use pm, angstrom (Å), nm, um (µm), mm, cm, m or pixel, "
                              "or leave it out for the file's own")
        paths = _expand_inputs(args.inputs)
        if getattr(args, "scheduler", None):
            _resolve_scheduler(args.scheduler)  # connect once, now: fail before any work
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise _UsageError(f"--out {out} is a file, not a folder")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:  # not "[Errno 13] Permission denied: '/x'"
            raise _UsageError(f"--out {out}: cannot make this folder "
                              f"({(err.strerror or str(err)).lower()})") from None
    except (_UsageError, ValueError, TypeError, OSError) as err:
        print(f"tessella {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE

    return _run_all(args, params, paths)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _run_all(args, params: dict, paths: list[Path]) -> int:
    """The per-file loop: each input done, skipped, failed or interrupted, then a summary."""
    failures: list[tuple[Path, str]] = []
    skipped: list[Path] = []
    start = time.perf_counter()
    stems = _stems(paths)
    out = Path(args.out)
    bar = _progress(list(zip(paths, stems, strict=True)), args.quiet)
    has_bar = bar is not None and not isinstance(bar, list)
    interrupted = None
    old_term = None
    try:  # SIGTERM (a batch system stopping the job) ends the run as Ctrl-C does
        old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread
        pass
    try:
        for i, (path, stem) in enumerate(bar, 1):
            t0 = time.perf_counter()
            if args.skip_existing and _main_table(out, stem, args.operation).exists():
                skipped.append(path)
                continue
            try:
                written = _run_one(path, stem, args, params)
            except KeyboardInterrupt:
                interrupted = (i, path)
                break
            except Exception as err:  # one bad file must not stop the batch
                # one line each: a user's bad file says what is wrong with it; anything
                # else keeps its type, so a bug is told apart from a bad input
                if isinstance(err, (ValueError, TypeError)):
                    message = _in_cli_words(err, args.operation)
                else:
                    message = f"{type(err).__name__}: {first_line(err, type(err).__name__)}"
                failures.append((path, message))
                if not args.quiet and not has_bar:
                    print(f"[{i}/{len(paths)}] {path}: FAILED ({message})", file=sys.stderr)
                continue
            if not args.quiet and not has_bar:
                names = ", ".join(p.name for p in written)
                print(f"[{i}/{len(paths)}] {path} -> {names} "
                      f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return _summary(args, paths, failures, skipped, interrupted, time.perf_counter() - start)


def _summary(args, paths, failures, skipped, interrupted, elapsed) -> int:
    n_seen = interrupted[0] - 1 if interrupted else len(paths)
    done = n_seen - len(failures) - len(skipped)
    if not args.quiet or interrupted:
        extra = f", {len(skipped)} skipped (already done)" if skipped else ""
        print(f"tessella {args.command}: {done} of {len(paths)} input(s) done{extra} in "
              f"{elapsed:.1f} s; results in {Path(args.out)}", file=sys.stderr)
    if failures:
        print(f"tessella {args.command}: {len(failures)} input(s) failed:", file=sys.stderr)
        for path, message in failures:
            print(f"  {path}: {message}", file=sys.stderr)
    if interrupted:
        i, path = interrupted
        left = len(paths) - i
        print(f"tessella {args.command}: interrupted during {path} (no output written for "
              f"it); {left} input(s) not started", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAILED if failures else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
