"""What lies outside an image (round 55): objects found on rotated, mosaicked, padded
fields against the image's own pixels, for the Seeded watershed, Threshold & label
(Otsu, sigma 2, min size 30) and Find atoms (separation 9).

    python benchmarks/outside_fills.py [SRC ...]   # e.g. a base's src, then src

Each case prints the objects that differ from its reference (objects of either without
an identical one in the other; columns farther than 0.5 px from every reference one):
- rotated: a field rotated 17 and 40 degrees (order 1, reshape) with a fill of 0, a
  mid-grey or the saturated value; reference: the same rotation filled with NaN, read as
  outside by the NaN path (the field's own pixels, the same ones);
- tile: a 2 x 2 mosaic's corner tile missing, filled with a constant; reference: NaN;
- nan+frame: a NaN band on the left and a frame of 0 on the other sides; reference: the
  field alone (unpadded);
- bg8: an 8-bit field padded with exactly its own clipped background value 0 (a frame
  the share rule does not peel); reference: the field alone;
- chunked: Threshold & label chunk by chunk (64, 96, 128) against memory on framed
  fields (mid-grey, 0 and 65535, grey over black).
"""

from __future__ import annotations

import subprocess
import sys

CASE = r'''
import sys, warnings
import numpy as np
from scipy import ndimage as ndi
warnings.simplefilter("ignore")
sys.path.insert(0, SRC)
from napari_tessella import (find_atoms_finite, seeded_watershed_finite,
                             threshold_label_finite)
from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei

def differ(a, b):
    a, b = np.asarray(a), np.asarray(b)
    n = 0
    for x, y in ((a, b), (b, a)):
        for k in np.unique(x[x > 0]):
            js = np.unique(y[x == k])
            if not any(j and np.array_equal(x == k, y == j) for j in js):
                n += 1
    return n

def differ_points(p, q):
    if not len(p) or not len(q):
        return len(p) + len(q)
    from scipy.spatial import cKDTree
    return int((cKDTree(q).query(p)[0] > 0.5).sum() + (cKDTree(p).query(q)[0] > 0.5).sum())

def run(img):
    keep = img.copy()
    ws = seeded_watershed_finite(img).result.labels
    tl = threshold_label_finite(img, smooth_sigma=2.0, min_size=30).labels
    assert np.array_equal(img, keep, equal_nan=True), "the input was modified"
    return ws, tl

def atoms(img):
    return find_atoms_finite(img, separation=9.0).result.positions

field = synthetic_nuclei((200, 240), n_nuclei=14, diameter=28.0, seed=5).image
f16 = (field.clip(0) / field.max() * 3000 + 200).astype(np.uint16)
noisy = f16 + np.random.default_rng(0).normal(0, 5, f16.shape)
lattice = synthetic_lattice((120, 140), spacing=9.0, seed=2).image
rows = []
for angle in (17, 40):
    ref = run(ndi.rotate(noisy, angle, reshape=True, cval=np.nan, order=1))
    ref_at = atoms(ndi.rotate(lattice, angle, reshape=True, cval=np.nan, order=1))
    for fill, fill_at in ((0, 0.0), (1500, 0.4), (65535, 5.0)):
        got = run(ndi.rotate(noisy, angle, reshape=True, cval=fill, order=1))
        at = atoms(ndi.rotate(lattice, angle, reshape=True, cval=fill_at, order=1))
        rows.append((f"rotated {angle} deg, fill {fill} / {fill_at}", differ(got[0], ref[0]),
                     differ(got[1], ref[1]), differ_points(at, ref_at)))
mosaic = np.block([[noisy, noisy[:, ::-1]], [noisy[::-1], noisy[::-1, ::-1]]])
lat2 = np.block([[lattice, lattice], [lattice, lattice]])
for corner in ((slice(None, 200), slice(None, 240)), (slice(200, None), slice(240, None))):
    acorner = tuple(slice(None if s.start is None else 120 if i == 0 else 140,
                          120 if s.stop == 200 else 140 if s.stop == 240 else None)
                    for i, s in enumerate(corner))
    nan = mosaic.copy(); nan[corner] = np.nan
    nan_at = lat2.copy(); nan_at[acorner] = np.nan
    ref, ref_at = run(nan), atoms(nan_at)
    for fill, fill_at in ((0, 0.0), (1500, 0.4), (65535, 5.0)):
        img = mosaic.copy(); img[corner] = fill
        lat = lat2.copy(); lat[acorner] = fill_at
        got = run(img)
        rows.append((f"tile {'top-left' if corner[0].start is None else 'bottom-right'}, "
                     f"fill {fill} / {fill_at}", differ(got[0], ref[0]),
                     differ(got[1], ref[1]), differ_points(atoms(lat), ref_at)))
alone, alone_at = run(noisy), atoms(lattice)
def nan_frame(f, value):
    out = np.full((f.shape[0] + 30, f.shape[1] + 40), float(value))
    out[:, :15] = np.nan
    out[20:20 + f.shape[0], 15:15 + f.shape[1]] = f
    return out, (slice(20, 20 + f.shape[0]), slice(15, 15 + f.shape[1]))
img, box = nan_frame(noisy, 0)
lat, abox = nan_frame(lattice, 0)
got = run(img)
at = atoms(lat) - [abox[0].start, abox[1].start]
rows.append(("nan + frame of 0", differ(got[0][box], alone[0]), differ(got[1][box], alone[1]),
             differ_points(at, alone_at)))
f8 = np.clip(field / field.max() * 255 + np.random.default_rng(1).normal(0, 2, field.shape),
             0, 255).astype(np.uint8)
l8 = np.clip(lattice / lattice.max() * 255, 0, 255).astype(np.uint8)
bg = int(np.bincount(f8.ravel()).argmax())
for pad in (10, 40):
    a8, a8t = run(f8), None
    got = run(np.pad(f8, pad, constant_values=bg))
    lbg = int(np.bincount(l8.ravel()).argmax())
    at = atoms(np.pad(l8, pad, constant_values=lbg)) - pad
    rows.append((f"8-bit padded {pad} px with its background {bg} ({100 * np.mean(f8 == bg):.0f} %"
                 f" of it; lattice {lbg}: {100 * np.mean(l8 == lbg):.0f} %)",
                 differ(got[0][pad:-pad, pad:-pad], a8[0]),
                 differ(got[1][pad:-pad, pad:-pad], a8[1]), differ_points(at, atoms(l8))))
import dask.array as da
for name, sides in (("mid-grey 1500", (1500,) * 4), ("0 and 65535", (0, 65535, 0, 65535)),
                    ("grey over black", (1000, 1000, 0, 0))):
    img = np.zeros((260, 300), np.uint16)
    img[:20], img[-40:], img[:, :30], img[:, -30:] = sides
    img[20:220, 30:270] = f16
    mem = threshold_label_finite(img, smooth_sigma=2.0, min_size=30).labels
    n = [differ(threshold_label_finite(da.from_array(img, chunks=c), smooth_sigma=2.0,
                                       min_size=30).labels.compute(), mem)
         for c in (64, 96, 128)]
    rows.append((f"chunked Threshold & label, frame {name} (chunks 64/96/128)", "-", n, "-"))
for r in rows:
    print(" | ".join(str(x) for x in r))
'''


def main(srcs):
    for src in srcs or ["src"]:
        print(f"## {src}: case | watershed | Threshold & label | Find atoms")
        out = subprocess.run([sys.executable, "-c", f"SRC = {src!r}\n" + CASE],
                             capture_output=True, text=True)
        print(out.stdout + out.stderr[-2000:])


if __name__ == "__main__":
    main(sys.argv[1:])
