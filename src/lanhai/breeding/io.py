"""Readers and writers at the edge: PLINK (bed/bim/fam via bed-reader), VCF (plain or
bgzip; GT or DS), genotype tables, pedigree and phenotype CSV, relationship matrices.

Every reader reports bad cells with file, line, column and animal, through
:class:`~lanhai.errors.ValidationFailed`. Text readers take the bank's
:class:`~lanhai.limits.Limits`: a gzip file is counted as it is decompressed (``expanded``,
``ratio``) and a line longer than ``line`` is refused (:class:`~lanhai.limits.TooLarge`) before
it is held in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lanhai.breeding.data import FloatArray, Genotypes, Pedigree, Phenotypes
from lanhai.breeding.validate import MAX_LISTED, check_genotypes
from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.exports.common import TableWriter
from lanhai.kinds.fields import header_key
from lanhai.limits import GZIP_MAGIC, Limits, TooLarge, gunzip, lines, read_line

MISSING = {"", "na", "nan", ".", "-", "-9", "null", "none", "?"}
UNKNOWN_PARENT = MISSING | {"0"}
ID_COLS = ("id", "animal", "animal_id", "individual", "individual_id", "iid", "line",
           "sample", "sample_id", "fish", "fish_id", "个体", "个体号", "个体编号")
SIRE_COLS = ("sire", "sire_id", "father", "male_parent", "父本", "父本号",
             "父本编号", "父亲")
DAM_COLS = ("dam", "dam_id", "mother", "female_parent", "母本", "母本号",
            "母本编号", "母亲")
ACCESSION_COLS = ("accession", "germplasm", "germplasm_accession", "种质")
#: the columns a pedigree may have, each with the headers recognised for it (matched case-,
#: spacing- and punctuation-insensitively; the field's own name first)
PEDIGREE_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ID_COLS, "sire": SIRE_COLS, "dam": DAM_COLS,
    "birth": ("birth", "born", "birth_date", "birth_year", "year", "hatch", "hatch_date",
              "hatch_year", "dob", "出生", "出生日期", "出生年份", "孵化日期"),
    "sex": ("sex", "gender", "性别"),
    "family": ("family", "family_id", "家系", "家系号", "家系编号"),
    "accession": ACCESSION_COLS,
}
#: the columns of a phenotype file with a role; every other column is a trait or an effect
PHENOTYPE_FIELDS: dict[str, tuple[str, ...]] = {"id": ID_COLS, "accession": ACCESSION_COLS}
#: what a column is mapped to so that it is not read
IGNORE = ("", "-")
#: what the animal identifier column is called in messages
_WHAT = {"id": "animal id"}
#: parts of a header that suggest which column holds a field nobody mapped (Father_ID: sire),
#: used only to word the fix of the error; such a column is never read without a mapping
_HINTS: dict[str, tuple[str, ...]] = {
    "id": ("animal", "individual", "fish", "个体"),
    "sire": ("sire", "father", "male", "papa", "父"),
    "dam": ("dam", "mother", "female", "mama", "母"),
}


def _looks_like(header: str, name: str) -> bool:
    """Whether ``header`` suggests the field ``name`` (see :data:`_HINTS`)."""
    key = header_key(header)
    if name != "dam":
        key = key.replace("female", "")
    return any(hint in key for hint in _HINTS.get(name, ()))


@contextmanager
def _open_text(path: Path, limits: Limits | None = None) -> Iterator[io.TextIOWrapper]:
    """Open plain, gzip or bgzip text (bgzip is a series of gzip members); decompressed
    within ``limits``."""
    if not path.exists():
        raise ValidationFailed(f"no such file: {path}", [Problem(
            reason="file not found", file=str(path), fix="check the path")])
    with ExitStack() as stack:
        binary: io.BufferedReader = stack.enter_context(path.open("rb"))
        encoding = "utf-8-sig"
        if binary.peek(2)[:2] == GZIP_MAGIC:
            binary = stack.enter_context(gunzip(binary, limits or Limits(), path.name))
            encoding = "utf-8"
        yield stack.enter_context(io.TextIOWrapper(binary, encoding=encoding, newline=""))


def _lines(handle: io.TextIOWrapper, path: Path, limits: Limits | None) -> Iterator[str]:
    """The lines of ``handle``, each within ``limits.line``."""
    limit = (limits or Limits()).line

    def too_long(number: int) -> TooLarge:
        return (limits or Limits()).refuse(
            f"{path.name}, line {number}: the line", "line", limit,
            "check that the file is text with one record a line; a VCF or genotype table "
            "with very many samples or SNPs has long lines: raise LANHAI_MAX_LINE")

    return lines(handle, limit, too_long)


def read_genotypes(path: Path, field: str = "GT", limits: Limits | None = None) -> Genotypes:
    """Genotypes from PLINK (.bed, or a prefix with .bed beside), VCF(.gz) or a table."""
    name = path.name.lower()
    if name.endswith(".bed") or (not path.exists() and path.with_suffix(".bed").exists()):
        return read_plink(path)
    if ".vcf" in name or ".bcf" in name:
        return read_vcf(path, field, limits)
    return read_genotype_table(path, limits)


def read_plink(path: Path) -> Genotypes:
    """PLINK 1 binary fileset; dosage counts allele A1 as bed-reader does by default."""
    from bed_reader import open_bed  # type: ignore[import-untyped,unused-ignore]

    bed = path if path.suffix == ".bed" else path.with_suffix(".bed")
    for ext in (".bed", ".bim", ".fam"):
        if not bed.with_suffix(ext).exists():
            raise ValidationFailed(f"PLINK fileset incomplete: {bed.with_suffix(ext)}", [
                Problem(reason=f"missing {ext} file beside {bed.name}",
                        file=str(bed.with_suffix(ext)),
                        fix="give the .bed with its .bim and .fam of the same name")])
    with open_bed(bed) as handle:
        dos = handle.read(dtype="float32")
        ids = [str(x) for x in handle.iid]
        snps = [str(x) for x in handle.sid]
        chrom = [str(x) for x in handle.chromosome]
        pos = [int(x) for x in handle.bp_position]
    geno = Genotypes(ids, snps, np.ascontiguousarray(dos), chrom, pos, source=str(bed))
    check_genotypes(geno)
    return geno


def read_vcf(path: Path, field: str = "GT", limits: Limits | None = None) -> Genotypes:
    """VCF, plain or bgzip. ``field`` GT (hard calls, biallelic) or DS (dosage)."""
    field = field.upper()
    if field not in ("GT", "DS"):
        raise ValidationFailed("unknown VCF field", [Problem(
            reason=f"cannot read genotypes from FORMAT field {field!r}", value=field,
            fix="use GT (hard calls) or DS (dosages)")])
    src = str(path)
    samples: list[str] = []
    snps: list[str] = []
    chrom: list[str] = []
    pos: list[int] = []
    rows: list[FloatArray] = []
    problems: list[Problem] = []
    with _open_text(path, limits) as handle:
        for lineno, line in enumerate(_lines(handle, path, limits), 1):
            if line.startswith("##"):
                continue
            parts = line.rstrip("\r\n").split("\t")
            if line.startswith("#CHROM"):
                samples = parts[9:]
                continue
            if not samples:
                raise ValidationFailed("not a VCF with samples", [Problem(
                    reason="no #CHROM header line with sample names before the data",
                    row=lineno, file=src, fix="give a VCF 4.x file with genotype columns")])
            if len(parts) != 9 + len(samples):
                problems.append(Problem(
                    reason=f"{len(parts)} columns, expected {9 + len(samples)}", row=lineno,
                    file=src, fix="every record needs 9 fixed columns plus one per sample"))
                continue
            snp = parts[2] if parts[2] not in (".", "") else f"{parts[0]}:{parts[1]}"
            keys = parts[8].split(":")
            if field not in keys:
                problems.append(Problem(reason=f"FORMAT has no {field}", row=lineno,
                                        record=snp, file=src,
                                        fix=f"choose the field present ({parts[8]})"))
                continue
            k = keys.index(field)
            vals = np.full(len(samples), np.nan)
            for j, cell in enumerate(parts[9:]):
                sub = cell.split(":")
                raw = sub[k] if k < len(sub) else "."
                value = _gt(raw) if field == "GT" else _ds(raw)
                if value is None:
                    if len(problems) < MAX_LISTED:
                        problems.append(Problem(
                            reason=f"genotype of animal {samples[j]} at SNP {snp} is not "
                                   + ("0/1/2 or missing (biallelic 0/0, 0/1, 1/1, ./.)"
                                      if field == "GT" else "a dosage between 0 and 2"),
                            value=raw, row=lineno, column=samples[j], record=snp, file=src,
                            fix="split multi-allelic sites (bcftools norm -m-) and use "
                                "biallelic SNPs" if field == "GT" else "check the DS field"))
                    continue
                vals[j] = value
            snps.append(snp)
            chrom.append(parts[0])
            pos.append(int(parts[1]) if parts[1].isdigit() else 0)
            rows.append(vals)
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in {path.name}", problems)
    dos = np.array(rows, dtype=np.float32).T if rows else np.zeros((len(samples), 0),
                                                                   np.float32)
    geno = Genotypes(samples, snps, np.ascontiguousarray(dos), chrom, pos, source=src)
    check_genotypes(geno, dosage=field == "DS")
    return geno


def _gt(raw: str) -> float | None:
    alleles = raw.replace("|", "/").split("/")
    if all(a == "." for a in alleles):
        return float("nan")
    if any(a not in ("0", "1") for a in alleles) or len(alleles) > 2:
        return None
    count = sum(a == "1" for a in alleles)
    return float(count * 2 if len(alleles) == 1 else count)


def _ds(raw: str) -> float | None:
    if raw in (".", ""):
        return float("nan")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0.0 <= value <= 2.0 else None


def _rows(path: Path, limits: Limits | None = None) -> Generator[list[str], None, None]:
    with _open_text(path, limits) as handle:
        first = read_line(handle, (limits or Limits()).line) or ""
    delim = "\t" if "\t" in first else ","
    with _open_text(path, limits) as handle:
        yield from csv.reader(_lines(handle, path, limits), delimiter=delim)


def read_genotype_table(path: Path, limits: Limits | None = None) -> Genotypes:
    """A CSV/TSV (optionally gzip) table: first column the animal, one column per SNP."""
    src = str(path)
    rows = _rows(path, limits)
    header = next(rows, None)
    if not header or len(header) < 2:
        raise ValidationFailed("empty genotype table", [Problem(
            reason="no header with an id column and SNP columns", file=src,
            fix="first row: id, SNP names; then one row per animal")])
    snps = [h.strip() for h in header[1:]]
    ids: list[str] = []
    data: list[list[float]] = []
    problems: list[Problem] = []
    for lineno, row in enumerate(rows, 2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(reason=f"{len(row)} cells, expected {len(header)}",
                                    row=lineno, file=src, record=row[0],
                                    fix="every row needs the id and one cell per SNP"))
            continue
        vals = []
        for snp, cell in zip(snps, row[1:], strict=True):
            c = cell.strip()
            if c.lower() in MISSING:
                vals.append(np.nan)
                continue
            try:
                v = float(c)
            except ValueError:
                v = -1.0
            vals.append(v)
            if v not in (0.0, 1.0, 2.0):
                problems.append(Problem(
                    reason=f"genotype of animal {row[0]} at SNP {snp} is not 0, 1, 2 or "
                           "missing", value=c, row=lineno, column=snp, record=row[0],
                    file=src, fix="recode as 0/1/2 (copies of one allele), missing as NA"))
        ids.append(row[0].strip())
        data.append(vals)
        if len(problems) >= MAX_LISTED:
            break
    if problems:
        raise ValidationFailed(f"problems in genotype table {path.name}", problems)
    dos = np.array(data, dtype=np.float32).reshape(len(ids), len(snps))
    geno = Genotypes(ids, snps, dos, source=src)
    check_genotypes(geno)
    return geno


# -- which column is which: explicit mapping first, then the headers recognised ----------------

def parse_map(values: Iterable[str]) -> dict[str, str]:
    """``['Father_ID=sire', 'Notes=-']`` -> ``{'Father_ID': 'sire', 'Notes': '-'}`` (the
    spelling of ``lanhai import --map SOURCE=FIELD``); a usage error for anything else."""
    out: dict[str, str] = {}
    problems = []
    for value in values:
        for line in str(value).splitlines():  # a form's text area: one mapping a line
            text = line.strip()
            if not text:
                continue
            source, sep, target = text.rpartition("=")
            source, target = source.strip(), target.strip()
            if not sep or not source:
                problems.append(Problem(
                    reason="a mapping is written COLUMN=FIELD", value=text, field="map",
                    fix="e.g. Father_ID=sire (command line: --map 'Father_ID=sire'); "
                        "COLUMN=- ignores a column"))
            elif source in out and out[source] != target:
                problems.append(Problem(
                    reason=f"column {source!r} is mapped twice ({out[source] or '-'} and "
                           f"{target or '-'})", value=text, field="map",
                    fix="map each column once"))
            else:
                out[source] = target
    if problems:
        raise UsageError("the column mapping is not readable", problems)
    return out


def header_of(path: Path, limits: Limits | None = None) -> list[str]:
    """The first row of a CSV/TSV file (its column names), stripped."""
    rows = _rows(path, limits)
    try:
        return [h.strip() for h in next(rows, None) or []]
    finally:
        rows.close()


def find_column(header: list[str], source: str) -> int | None:
    """Where ``source`` is in ``header``: spelled exactly, or the one column whose name
    matches case-, spacing- and punctuation-insensitively."""
    if source in header:
        return header.index(source)
    near = [i for i, h in enumerate(header) if header_key(h) == header_key(source)]
    return near[0] if len(near) == 1 else None


@dataclass
class ColumnPlan:
    """How a file's columns are read: the column of each field, the name each other column
    takes (its own, or the one it is mapped to) and the columns left out."""

    fields: dict[str, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    ignored: set[int] = field(default_factory=set)


def plan_columns(header: list[str], known: dict[str, tuple[str, ...]],
                 columns: Mapping[str, str] | None, src: str, what: str,
                 required: tuple[str, ...]) -> ColumnPlan:
    """Which column of ``header`` is which field of ``known``: the mapping first (entries
    naming a column of this file), then each field's recognised headers where one column
    matches. A field ``required`` with no column, or two columns that could each be the same
    field, is a problem naming the columns and the mapping that settles it."""
    plan = ColumnPlan()
    explicit: set[int] = set()
    for source, target in (columns or {}).items():
        index = find_column(header, source)
        if index is None:
            continue  # a column of another file (the mapping is checked against all of them)
        explicit.add(index)
        if target in IGNORE:
            plan.ignored.add(index)
        elif target in known:
            if target in plan.fields:
                raise UsageError("two columns mapped to one field", [Problem(
                    reason=f"columns {header[plan.fields[target]]!r} and {header[index]!r} "
                           f"are both mapped to {target}", field="map", file=src,
                    value=f"{source}={target}", fix="map one column to each field")])
            plan.fields[target] = index
        else:
            plan.names[index] = target
    problems = []
    unclear: set[str] = set()
    for name, aliases in known.items():
        if name in plan.fields:
            continue
        keys = {header_key(a) for a in aliases}
        found = [i for i, h in enumerate(header) if i not in explicit and header_key(h) in keys]
        exact = [i for i in found if header_key(header[i]) == header_key(name)]
        if len(exact) == 1 or len(found) == 1:
            plan.fields[name] = (exact or found)[0]
        elif found:
            unclear.add(name)
            first, other = header[found[0]], header[found[1]]
            problems.append(Problem(
                reason=f"columns {' and '.join(repr(header[i]) for i in found)} could each "
                       f"be the {_WHAT.get(name, name)}", column=other, file=src,
                fix=f"say which: map {first}={name} (command line: --map '{first}={name}'), "
                    f"and {other}=- to leave the other out"))
    free = [h for i, h in enumerate(header)
            if h and i not in plan.fields.values() and i not in explicit]
    for name in required:
        if name in plan.fields or name in unclear:
            continue
        alike = [h for h in free if _looks_like(h, name)]
        example = alike[0] if alike else free[0] if free else "COLUMN"
        if example in free:
            free.remove(example)
        looked = ", ".join(known[name][:6])
        problems.append(Problem(
            reason=f"no {_WHAT.get(name, name)} column in the {what} (looked for {looked} …); "
                   f"its columns are: {', '.join(header) or 'none'}", file=src,
            column=example if alike else None,
            fix=f"name the column that holds the {_WHAT.get(name, name)}: map "
                f"{example}={name} (command line: --map '{example}={name}')"))
    if problems:
        raise ValidationFailed(f"the {what} columns are not clear", problems)
    for index, name in enumerate(header):
        if index not in plan.ignored and index not in plan.fields.values():
            plan.names.setdefault(index, name)
    return plan


def check_map(columns: Mapping[str, str], pedigree: tuple[str, list[str]] | None,
              phenotypes: tuple[str, list[str]] | None) -> None:
    """Every mapped column is in the pedigree or the phenotype file given (each a file name
    and its columns), and maps to something it can be there: a pedigree field, or in a
    phenotype file any name (a trait or effect renamed). A usage error naming the column
    otherwise."""
    files = [f for f in (pedigree, phenotypes) if f is not None]
    problems = []
    if columns and not files:
        problems.append(Problem(
            reason="a column mapping applies to a pedigree or phenotype file, and none was "
                   "given", field="map", value=", ".join(f"{s}={t}" for s, t in columns.items()),
            fix="give the files the mapping is for, or leave the mapping out"))
    for source, target in columns.items() if files else ():
        in_pedigree = pedigree is not None and find_column(pedigree[1], source) is not None
        in_phenotypes = phenotypes is not None and find_column(phenotypes[1], source) is not None
        if not (in_pedigree or in_phenotypes):
            listed = "; ".join(f"{name}: {', '.join(head)}" for name, head in files)
            problems.append(Problem(
                reason=f"no column {source!r} in {' or '.join(name for name, _ in files)}",
                field="map", value=f"{source}={target}", column=source,
                fix=f"spell the column as in the file's first row ({listed})"))
        elif (target not in IGNORE and target not in PEDIGREE_FIELDS and in_pedigree
              and not in_phenotypes):
            problems.append(Problem(
                reason=f"{target!r} is not a pedigree field", field="map",
                value=f"{source}={target}", column=source,
                fix=f"map a pedigree column to one of {', '.join(PEDIGREE_FIELDS)}, or to - "
                    "to leave it out"))
    if problems:
        raise UsageError("the column mapping does not fit the files", problems)


def _parse_birth(text: str) -> float | None:
    text = text.strip()
    if text.lower() in MISSING:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        pass
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
    return day.year + (day.timetuple().tm_yday - 1) / 366.0


def read_pedigree(path: Path, limits: Limits | None = None,
                  columns: Mapping[str, str] | None = None) -> Pedigree:
    """CSV/TSV with id, sire, dam (unknown: empty, 0, NA, .), optional birth (year or ISO
    date; kept as a decimal year), sex (M/F), family and accession (germplasm) columns.

    Columns are found by ``columns`` (source column -> field, as ``--map Father_ID=sire``),
    else by their headers (:data:`PEDIGREE_FIELDS`: ``Father_ID``, ``mother``, ``性别`` …)."""
    src = str(path)
    rows = _rows(path, limits)
    header = [h.strip() for h in next(rows, None) or []]
    plan = plan_columns(header, PEDIGREE_FIELDS, columns, src, "pedigree",
                        ("id", "sire", "dam"))
    i_id, i_s, i_d = plan.fields["id"], plan.fields["sire"], plan.fields["dam"]
    i_b, i_x, i_f, i_a = (plan.fields.get(f) for f in ("birth", "sex", "family", "accession"))
    ids: list[str] = []
    sire: list[str | None] = []
    dam: list[str | None] = []
    birth: list[float] = []
    sex: list[str] = []
    family: list[str] = []
    acc: dict[str, str] = {}
    acc_rows: dict[str, int] = {}
    problems: list[Problem] = []
    for lineno, row in enumerate(rows, 2):
        if not row or not any(c.strip() for c in row):
            continue
        row = row + [""] * (len(header) - len(row))
        a = row[i_id].strip()
        if not a or a.lower() in UNKNOWN_PARENT:
            problems.append(Problem(reason="no animal id", row=lineno, file=src,
                                    fix="every row needs an animal identifier"))
            continue
        ids.append(a)
        for col, out in ((i_s, sire), (i_d, dam)):
            v = row[col].strip()
            out.append(None if v.lower() in UNKNOWN_PARENT else v)
        if i_b is not None:
            b = _parse_birth(row[i_b])
            if b is None:
                problems.append(Problem(reason="birth is not a year, number or ISO date",
                                        value=row[i_b], row=lineno, column=header[i_b],
                                        record=a, file=src, fix="write e.g. 2021 or 2021-05-30"))
                b = float("nan")
            birth.append(b)
        if i_x is not None:
            s = row[i_x].strip().upper()[:1]
            s = {"1": "M", "2": "F"}.get(s, s)
            if s not in ("M", "F", "", "0", "U"):
                problems.append(Problem(reason="sex is not M, F or unknown", value=row[i_x],
                                        row=lineno, column=header[i_x], record=a, file=src,
                                        fix="use M/F (or 1/2 as PLINK), empty if unknown"))
            sex.append(s if s in ("M", "F") else "")
        if i_f is not None:
            family.append(row[i_f].strip())
        if i_a is not None and row[i_a].strip():
            acc[a] = row[i_a].strip()
            acc_rows[a] = lineno
    if problems:
        raise ValidationFailed(f"problems in pedigree {path.name}", problems[:MAX_LISTED])
    return Pedigree(ids, sire, dam, np.array(birth) if i_b is not None else None, sex,
                    family, acc, source=src, accession_rows=acc_rows,
                    accession_column=header[i_a] if i_a is not None else "accession")


def read_phenotypes(path: Path, factors: list[str] | None = None,
                    covariates: list[str] | None = None,
                    limits: Limits | None = None,
                    columns: Mapping[str, str] | None = None) -> Phenotypes:
    """CSV/TSV, one row per animal. Numeric columns are traits unless named as
    ``covariates``; text columns and those named in ``factors`` are class effects.

    ``columns`` (source column -> name) finds the id and accession columns, renames traits
    and effects (``体重=weight``) and leaves columns out (``Notes=-``); ``factors`` and
    ``covariates`` may use a column's name in the file or the name it is mapped to."""
    src = str(path)
    rows = _rows(path, limits)
    header = [h.strip() for h in (next(rows, None) or [])]
    plan = plan_columns(header, PHENOTYPE_FIELDS, columns, src, "phenotypes", ("id",))
    i_id, i_a = plan.fields["id"], plan.fields.get("accession")
    named = _phenotype_names(plan, header, src)
    lines: list[int] = []
    body: list[list[str]] = []
    for lineno, r in enumerate(rows, 2):
        if r and any(c.strip() for c in r):
            lines.append(lineno)
            body.append(r + [""] * (len(header) - len(r)))
    renamed = {header[j]: name for j, name in named.items() if header[j] != name}
    factors = [renamed.get(f, f) for f in factors or []]
    covariates = [renamed.get(c, c) for c in covariates or []]
    for name in factors + covariates:
        if name not in named.values():
            raise ValidationFailed("unknown fixed effect", [Problem(
                reason=f"no column {name!r} in the phenotype file", column=name, file=src,
                fix=f"columns are: {', '.join(named.values())}")])
    traits: dict[str, FloatArray] = {}
    facs: dict[str, list[str]] = {}
    covs: dict[str, FloatArray] = {}
    problems: list[Problem] = []
    for j, name in named.items():
        cells = [r[j].strip() for r in body]
        numeric = [_num(c) for c in cells]
        if name in factors or (name not in covariates and any(
                v is None for v in numeric) and not _mostly_numeric(numeric)):
            facs[name] = ["" if c.lower() in MISSING else c for c in cells]
            continue
        for k, v in enumerate(numeric):
            if v is None:
                problems.append(Problem(
                    reason=f"{'covariate' if name in covariates else 'trait'} value is not "
                           "a number", value=cells[k], row=lines[k], column=header[j],
                    record=body[k][i_id], file=src,
                    fix="write a number, or leave empty / NA when missing"))
        arr = np.array([np.nan if v is None else v for v in numeric], dtype=float)
        (covs if name in covariates else traits)[name] = arr
    ids = [r[i_id].strip() for r in body]
    dup = sorted({a for a in ids if ids.count(a) > 1}) if len(set(ids)) < len(ids) else []
    for a in dup[:MAX_LISTED]:
        problems.append(Problem(reason=f"animal {a} has more than one row", record=a,
                                file=src, fix="give one row per animal (average repeated "
                                              "records, or keep one)"))
    if problems:
        raise ValidationFailed(f"problems in phenotypes {path.name}", problems[:MAX_LISTED])
    acc: dict[str, str] = {}
    acc_rows: dict[str, int] = {}
    if i_a is not None:
        for lineno, r in zip(lines, body, strict=True):
            if r[i_a].strip():
                acc[r[i_id].strip()] = r[i_a].strip()
                acc_rows[r[i_id].strip()] = lineno
    return Phenotypes(ids, traits, facs, covs, acc, source=src, accession_rows=acc_rows,
                      accession_column=header[i_a] if i_a is not None else "accession")


def _phenotype_names(plan: ColumnPlan, header: list[str], src: str) -> dict[int, str]:
    """Column index -> the trait or effect name it is read as (roles and ignored left out);
    two columns that would take one name are a problem."""
    named = {j: n for j, n in sorted(plan.names.items()) if j not in plan.fields.values()}
    seen: dict[str, int] = {}
    for j, name in named.items():
        if name in seen:
            raise ValidationFailed("two columns take one name", [Problem(
                reason=f"columns {header[seen[name]]!r} and {header[j]!r} would both be "
                       f"called {name!r}", column=header[j], file=src, field="map",
                fix="map them to different names, or leave one out with COLUMN=-")])
        seen[name] = j
    return named


def _num(cell: str) -> float | None:
    if cell.lower() in MISSING:
        return float("nan")
    try:
        return float(cell)
    except ValueError:
        return None


def _mostly_numeric(values: list[float | None]) -> bool:
    """A column with at most one non-number in 20 is a trait with typos, not a factor."""
    bad = sum(v is None for v in values)
    return bad * 20 <= len(values) and bad < len(values)


def read_matrix(path: Path, limits: Limits | None = None) -> tuple[list[str], FloatArray]:
    """A square relationship matrix as a table: header row of ids, then id + values."""
    src = str(path)
    rows = list(_rows(path, limits))
    if not rows:
        raise ValidationFailed("empty matrix", [Problem(reason="empty file", file=src)])
    ids = [h.strip() for h in rows[0][1:]]
    body = [r for r in rows[1:] if r]
    if len(body) != len(ids) or any(len(r) != len(ids) + 1 for r in body):
        raise ValidationFailed("relationship matrix is not square", [Problem(
            reason=f"{len(body)} rows for {len(ids)} columns", file=src,
            fix="write a header of ids, then one row per animal: id and its values")])
    mat = np.array([[float(c) for c in r[1:]] for r in body])
    if [r[0].strip() for r in body] != ids:
        raise ValidationFailed("row ids differ from column ids", [Problem(
            reason="the rows are not in the order of the header", file=src,
            fix="write rows in the same order as the header columns")])
    return ids, mat


def write_table(path: Path, header: list[str], rows: list[list[object]]) -> None:
    """Write a TSV atomically (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        writer = TableWriter(out, tsv=True, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)
