"""Round 46: glare streaks that end on a nucleus or run off the image (measured, not kept).

Round 45's rule (``_glare._drop_streaks``) keeps every coherent label on the image border
or touching a label under its coherence bar. Round 46 measured a rule that reads where the
contact lies (a streak cut across meets a nucleus or the border at an end of its length)
and did not keep it (``docs/nuclei.md``). What any such rule must keep stays tested: a
coherent band whose long side is the image border (as a nucleus's cap meets it). This
passes on the code before round 46 as well.
"""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._glare import _COHERENT, _drop_streaks, _gradient_coherence

RR, CC = np.mgrid[:60, :80].astype(float)


def test_a_bar_cut_along_its_length_by_the_border_is_kept():
    """A band whose long side is the image border (a nucleus's cap meets it so) is kept."""
    box = (abs(RR - 30) < 3) & (abs(CC - 40) < 25)
    image = ndi.gaussian_filter(box * 1.0, 2.0)[29:]
    labels = ndi.label(image > 0.3)[0].astype(np.int32)
    assert _gradient_coherence(labels, image)[1] >= _COHERENT
    out, dropped = _drop_streaks(labels.copy(), image)
    assert not dropped and (out == 1).any()
