"""Genomic relationship matrices (VanRaden 2008, J. Dairy Sci. 91:4414), streamed over
SNP blocks so memory is the n × n result plus one n × block slice.

* method 1: G = ZZ' / (2 Σ p(1-p)), Z = M - 2p;
* method 2: G = (1/m) Σ_j z_j z_j' / (2 p_j (1-p_j)) (each SNP standardised).

Missing genotypes count as the mean (their centred value is 0). Each block is added with the
BLAS symmetric rank-k update (dsyrk), half the work of a general matrix product.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
from scipy.linalg.blas import dsyrk

from lanhai.breeding.data import FloatArray, Progress, no_progress
from lanhai.errors import Problem, ValidationFailed

DEFAULT_BLOCK = 4096
BLOCK_BYTES = 512 * 2**20


def allele_freqs(dosages: npt.NDArray[np.floating], block: int = DEFAULT_BLOCK) -> FloatArray:
    """Frequency of the counted allele per SNP over called genotypes (NaN if none)."""
    m = dosages.shape[1]
    out = np.empty(m)
    for j0 in range(0, m, block):
        blk = dosages[:, j0:j0 + block].astype(np.float64)
        with np.errstate(invalid="ignore"):
            out[j0:j0 + block] = np.nanmean(blk, axis=0) / 2.0 if blk.shape[0] else np.nan
    return out


def _block(dosages: npt.NDArray[np.floating], j0: int, j1: int, method: int,
           freqs: FloatArray | None) -> tuple[FloatArray, float, int]:
    """Centred (method 2: standardised) float64 block, animals × SNPs in C order (each
    animal's SNPs contiguous, as in the dosages), missing = 0; with its Σ 2p(1-p) and
    number of polymorphic SNPs. Converting and centring is one fused pass."""
    raw = dosages[:, j0:j1]
    nan = np.isnan(raw)
    has_nan = bool(nan.any())
    if freqs is not None:
        p = np.asarray(freqs[j0:j1], dtype=np.float64)
    elif has_nan:
        count = raw.shape[0] - nan.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(nan, 0.0, raw).sum(0, dtype=np.float64) / (2.0 * count)
    else:
        p = raw.mean(0, dtype=np.float64) / 2.0
    poly = (p > 0) & (p < 1) & np.isfinite(p)
    p = np.where(poly, p, 0.0)
    z = np.empty(raw.shape, dtype=np.float64, order="C")
    np.subtract(raw, 2.0 * p, out=z)
    if has_nan:
        z[nan] = 0.0
    var = 2.0 * p * (1.0 - p)
    if method == 2:
        z *= np.where(poly, 1.0 / np.sqrt(np.where(poly, var, 1.0)), 0.0)
    elif not poly.all():
        z[:, ~poly] = 0.0
    return z, float(var[poly].sum()), int(poly.sum())


def vanraden(dosages: npt.NDArray[np.floating], method: int = 1,
             freqs: FloatArray | None = None, block: int | None = None,
             progress: Progress = no_progress) -> FloatArray:
    """G from dosages (animals × SNPs, NaN = missing). ``freqs`` default: from the data.

    One pass over the SNPs: each block is converted, centred and added with dsyrk while
    the next block is prepared in a second thread. Monomorphic SNPs add nothing to
    method 1 and are skipped by method 2.
    """
    if method not in (1, 2):
        raise ValidationFailed("unknown GRM method", [Problem(
            reason=f"VanRaden method {method} does not exist here", value=str(method),
            fix="use method 1 (default) or 2")])
    n, m = dosages.shape
    if block is None:  # about BLOCK_BYTES of float64 per block (two in flight)
        block = int(max(256, min(8192, BLOCK_BYTES // (8 * max(n, 1)))))
    acc = np.zeros((n, n), order="F")
    total_var, total_poly = 0.0, 0
    starts = list(range(0, m, block))
    with ThreadPoolExecutor(max_workers=1) as pool:
        nxt = pool.submit(_block, dosages, 0, block, method, freqs) if starts else None
        for i, j0 in enumerate(starts):
            assert nxt is not None
            z, var, poly = nxt.result()
            if i + 1 < len(starts):
                j1 = starts[i + 1]
                nxt = pool.submit(_block, dosages, j1, j1 + block, method, freqs)
            if poly:  # z.T is a Fortran SNPs × animals matrix: acc += (z.T)'(z.T)
                acc = dsyrk(1.0, z.T, beta=1.0, c=acc, trans=1, lower=1, overwrite_c=1)
            del z
            total_var += var
            total_poly += poly
            progress("grm", min(j0 + block, m), m)
    if n == 0 or total_poly == 0:
        raise ValidationFailed("no polymorphic SNP", [Problem(
            reason=f"none of the {m} SNPs varies among the {n} animals, so genomic "
                   "relationships cannot be computed",
            fix="check the genotype file and the QC thresholds")])
    acc /= total_var if method == 1 else float(total_poly)
    _mirror_lower(acc)
    out: FloatArray = acc.T  # symmetric: the transpose is the same matrix, C-contiguous
    return out


def _mirror_lower(acc: FloatArray, tile: int = 1024) -> None:
    """Copy the lower triangle onto the upper, tile by tile (no n² index arrays)."""
    n = acc.shape[0]
    for i0 in range(0, n, tile):
        i1 = min(i0 + tile, n)
        blk = acc[i0:i1, i0:i1]
        blk[np.triu_indices(i1 - i0, 1)] = blk.T[np.triu_indices(i1 - i0, 1)]
        acc[i0:i1, i1:] = acc[i1:, i0:i1].T


def regularise(g: FloatArray, weight: float = 0.01) -> FloatArray:
    """(1-w) G + w I: makes G invertible when there are fewer SNPs than animals or
    duplicates (a common choice: w = 0.01)."""
    out: FloatArray = (1.0 - weight) * g
    out[np.diag_indices_from(out)] += weight
    return out
