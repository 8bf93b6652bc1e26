"""Animals belong to germplasm lines: check the accessions a dataset names against the
catalog, and say which lines a dataset covers.

The check is pure: it takes a *lookup*, a function from accessions to the kind of each record
the caller may see (:class:`lanhai.services.breeding.BreedingService` builds one over the
catalog). An accession that
is malformed, unknown, of another kind, or confidential to the caller is reported once per
file row that names it (row, column, value, what is wrong, how to fix it); a confidential
record gets the same message as one that does not exist, as everywhere in Lanhai.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lanhai.breeding.data import Dataset
from lanhai.breeding.validate import MAX_LISTED
from lanhai.errors import Problem, ValidationFailed
from lanhai.kinds import kind_of_accession

#: accessions (upper case) → kind of each record the caller may see; others left out
Lookup = Callable[[list[str]], dict[str, str]]


@dataclass(frozen=True)
class Mention:
    """One place an accession is written: a file row and column, or the --germplasm option."""

    accession: str
    animal: str | None
    file: str | None = None
    row: int | None = None
    column: str | None = None
    option: bool = False


def mentions(data: Dataset, option: str | None = None) -> list[Mention]:
    """Every place the dataset names a germplasm accession, in file order."""
    out: list[Mention] = []
    if option:
        out.append(Mention(option, None, option=True))
    for part in (data.pedigree, data.phenotypes):
        if part is None:
            continue
        for animal, acc in part.accession.items():
            if option and acc == option and animal not in part.accession_rows:
                continue  # filled in from the option, not written in the file
            out.append(Mention(acc, animal, part.source or None,
                               part.accession_rows.get(animal), part.accession_column))
    return out


def check_germplasm(data: Dataset, lookup: Lookup, option: str | None = None) -> dict[str, int]:
    """Check every accession; on success normalise them to upper case in ``data`` and return
    accession → number of animals linked to it (``option`` links every animal)."""
    found = mentions(data, option)
    wanted = sorted({m.accession.strip().upper() for m in found
                     if kind_of_accession(m.accession) is not None})
    kinds = lookup(wanted) if wanted else {}
    problems: list[Problem] = []
    bad = 0
    for m in found:
        problem = _problem(m, kinds)
        if problem is not None:
            bad += 1
            if len(problems) < MAX_LISTED:
                problems.append(problem)
    if problems:
        raise ValidationFailed(
            f"{bad} germplasm accession(s) do not name a germplasm record you may see; "
            "nothing was imported", problems)
    for part in (data.pedigree, data.phenotypes):
        if part is not None:
            part.accession = {a: acc.strip().upper() for a, acc in part.accession.items()}
    return linked_lines(data, option.strip().upper() if option else None)


def linked_lines(data: Dataset, option: str | None = None) -> dict[str, int]:
    """Accession → number of distinct animals linked to it (``option``: every animal of the
    dataset, genotyped only ones included, unless a column names another line)."""
    per_animal = data.germplasm()
    if option:
        for animal in _all_animals(data):
            per_animal.setdefault(animal, option)
    return dict(sorted(Counter(per_animal.values()).items()))


def _all_animals(data: Dataset) -> Iterable[str]:
    for part in (data.genotypes, data.pedigree, data.phenotypes):
        if part is not None:
            yield from part.ids


def _problem(m: Mention, kinds: dict[str, str]) -> Problem | None:
    acc = m.accession.strip().upper()
    who = "" if m.animal is None else f" (animal {m.animal})"
    spec = kind_of_accession(acc)
    if spec is None:
        return _at(m, f"{m.accession!r}{who} is not a Lanhai accession",
                   "write the germplasm record's accession, e.g. LHGP0000001 "
                   "(`lanhai list germplasm` lists them)")
    kind = kinds.get(acc)
    if kind is None:
        return _at(m, f"no germplasm record {acc} in the catalog{who}",
                   "create the germplasm record first (`lanhai create germplasm …` or "
                   "POST /api/germplasm), or correct the accession")
    if kind != "germplasm":
        return _at(m, f"{acc} is a {kind} record, not a germplasm record{who}",
                   "animals belong to a germplasm line: give the accession of a germplasm "
                   "record (LHGP…)")
    return None


def _at(m: Mention, reason: str, fix: str) -> Problem:
    if m.option:
        return Problem(reason=reason, fix=fix, field="germplasm", value=m.accession)
    return Problem(reason=reason, fix=fix, value=m.accession, row=m.row, column=m.column,
                   record=m.animal, file=m.file)
