"""The errors a user can cause with their input, and how a widget says them: the core's
advice in words a user of the viewer can follow, the plane of a stack an error came from."""

from __future__ import annotations

from .._validation import AdvisedError, LengthError, advice_by_topic
from ._stacks import _plane_text

# Errors a user can cause with their input; anything else is a bug and is reported as such.
_USER_ERRORS = (ValueError, TypeError)


#: the core's advice (:class:`~napari_tessella._validation.AdvisedError`), by its topic, as
#: a user of the viewer can follow it ("{doing}": the error's own blank)
_VIEWER_ADVICE = advice_by_topic(
    non_finite="such pixels (often a stitched or registered image's padding, without data) "
               "must be given a value before {doing}, e.g. in napari's console (the >_ "
               "button): layer.data = np.nan_to_num(layer.data).",
    duplicate_points="they lie on top of one another; select them in the layer and delete "
                     "all but one.",
    stack="move the viewer's slider to the plane to segment (or choose 'all planes' where "
          "the widget offers it).",
    no_lattice="give a column spacing instead.",
    few_columns="give a column spacing or another image.",
    several_images="open the one to segment as a layer of its own (save it as a file of "
                   "its own, or open it with a reader that lets you choose).",
)


def in_viewer_words(err: BaseException) -> str:
    """A core error's message with its advice said as a user of the viewer can follow it:
    an :class:`~napari_tessella._validation.AdvisedError`'s refusal, then the viewer's
    words for its topic (round 51: read from the error's parts, not found in its text);
    any other error's message as it is (the command line says it in its own words)."""
    if isinstance(err, AdvisedError) and (said := _VIEWER_ADVICE.get(err.topic)) is not None:
        return f"{err.what}: {said.format(**err.words)}"
    return str(err)


def _on_plane(err: BaseException, index: tuple[int, ...]) -> BaseException:
    """``err`` (a user's error) with the plane of the stack it came from said first, of
    its class and with its parts (an advice or lengths the report words again)."""
    prefix = f"{_plane_text(index)}: "
    if isinstance(err, AdvisedError):
        return err.prefixed(prefix)
    if isinstance(err, LengthError):
        return LengthError(prefix.replace("{", "{{") + err.template, err.name, **err.lengths)
    return type(err)(prefix + str(err))
