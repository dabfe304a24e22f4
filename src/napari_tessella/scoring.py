"""Scoring a segmentation against a reference (errors per image as in Coelho et al. 2009,
matches at IoU 0.5, F1)."""

from __future__ import annotations

import numpy as np

from ._validation import as_label_image

__all__ = ["score_segmentation"]


def _overlap_table(pred, ref) -> np.ndarray:
    """The pixels each object of ``pred`` shares with each object of ``ref`` (label
    images of one shape), objects numbered in the order of their ids with row and column
    0 the background, present or not; ids that do not occur take no row or column."""
    p_ids, p = np.unique(pred.ravel(), return_inverse=True)
    r_ids, r = np.unique(ref.ravel(), return_inverse=True)
    p = p + (p_ids[0] != 0)  # row 0 is the background even where there is none
    r = r + (r_ids[0] != 0)
    n_p, n_r = len(p_ids) + (p_ids[0] != 0), len(r_ids) + (r_ids[0] != 0)
    return np.bincount(p * n_r + r, minlength=n_p * n_r).reshape(n_p, n_r)


def score_segmentation(pred, ref) -> dict:
    """Score a label image against a reference with the error classes of Coelho et al. 2009.

    Each segmented object is assigned to the reference object it overlaps most, and each
    reference object to the segmented object it overlaps most; background (0) is a
    candidate on both sides.

    Parameters
    ----------
    pred, ref : (M, N) ndarray of int
        Label images of the same shape, any integer dtype; 0 is background, ids >= 0.

    Raises
    ------
    ValueError, TypeError
        Different or empty shapes, negative ids, or images that are not integer labels.

    Returns
    -------
    dict
        ``split``: reference nuclei to which more than one segmented object is assigned;
        ``merged``: segmented objects to which more than one reference nucleus is assigned;
        ``spurious``: segmented objects assigned to reference background;
        ``missing``: reference nuclei assigned to segmented background;
        ``errors``: their sum; ``n_pred``, ``n_ref``: object counts; ``mean_iou``: mean
        over reference nuclei of their best IoU with a segmented object; ``f1``: F1 score
        of a one-to-one matching at IoU >= 0.5 (greedy by decreasing IoU).

    Examples
    --------
    >>> ref = np.zeros((10, 10), int)
    >>> ref[1:4, 1:4] = 1
    >>> ref[6:9, 6:9] = 2
    >>> score_segmentation(ref, ref)["errors"]
    0
    """
    pred = as_label_image(pred, name="pred")
    ref = as_label_image(ref, name="ref")
    if pred.shape != ref.shape:
        raise ValueError(f"pred and ref differ in shape: {pred.shape} vs {ref.shape}.")
    if pred.size == 0:
        raise ValueError(f"pred and ref are empty (shape {pred.shape}): nothing to score.")
    table = _overlap_table(pred, ref)
    n_p, n_r = table.shape
    seg_to_ref = table[1:].argmax(axis=1)          # per segmented object, ref id (0 = bg)
    ref_to_seg = table[:, 1:].argmax(axis=0)       # per reference object, seg id (0 = bg)
    hits_ref = np.bincount(seg_to_ref, minlength=n_r)[1:]
    hits_seg = np.bincount(ref_to_seg, minlength=n_p)[1:]
    split = int(np.count_nonzero(hits_ref > 1))
    merged = int(np.count_nonzero(hits_seg > 1))
    spurious = int(np.count_nonzero(seg_to_ref == 0))
    missing = int(np.count_nonzero(ref_to_seg == 0))

    inter = table[1:, 1:].astype(float)
    area_p = table[1:].sum(axis=1).astype(float)
    area_r = table[:, 1:].sum(axis=0).astype(float)
    union = area_p[:, None] + area_r[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    mean_iou = float(iou.max(axis=0).mean()) if iou.size else (1.0 if n_r == 1 else 0.0)
    pi, ri = np.nonzero(iou >= 0.5)
    order = np.argsort(-iou[pi, ri], kind="stable")
    used_p, used_r, tp = set(), set(), 0
    for k in order:
        if pi[k] not in used_p and ri[k] not in used_r:
            used_p.add(pi[k])
            used_r.add(ri[k])
            tp += 1
    denom = (n_p - 1) + (n_r - 1)
    f1 = 2 * tp / denom if denom else 1.0
    return {"split": split, "merged": merged, "spurious": spurious, "missing": missing,
            "errors": split + merged + spurious + missing, "n_pred": n_p - 1, "n_ref": n_r - 1,
            "mean_iou": mean_iou, "f1": float(f1)}
