"""Reaction equations and EC numbers as parts give them, read without a model (the part
kind checks them when a part is written; :mod:`lanhai.design.pathways` adds them to one).

An equation is written over the model's metabolite ids, substrates first:
``gdpfuc_c + lcts_c -> 2fl_c + gdp_c + h_c``; ``<=>`` is reversible, ``->`` and ``-->``
irreversible, a coefficient is a number before the id (``2 accoa_c``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from lanhai.errors import Problem, ValidationFailed

_ARROWS = (("<=>", True), ("-->", False), ("->", False))
_NUMBER = re.compile(r"^\(?(\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\)?$")
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_EC = re.compile(r"^(?:EC[\s:]*)?(\d+)\.(\d+|-)\.(\d+|-)\.(n?\d+|-)$", re.I)


@dataclass(frozen=True)
class Equation:
    """A parsed equation: metabolite id -> coefficient (negative for substrates)."""

    coefficients: Mapping[str, float]
    reversible: bool


def parse_equation(text: str, where: str = "equation") -> Equation:
    """Parse ``a + 2 b -> c`` (``<=>``, ``-->``, ``->``); refuses anything else, saying
    where."""
    problems: list[Problem] = []
    arrow = next(((a, rev) for a, rev in _ARROWS if a in text), None)
    if arrow is None or text.count(arrow[0]) != 1 or (arrow[0] == "->" and "<-" in text):
        raise ValidationFailed(f"the equation of {where} has no single arrow", [Problem(
            reason="has no single arrow", field="equation", value=text, record=where,
            fix="write substrates -> products (irreversible) or <=> (reversible), with the "
                "substrates on the left")])
    left, right = text.split(arrow[0])
    coefficients: dict[str, float] = {}
    for side, sign in ((left, -1.0), (right, 1.0)):
        terms = [t.strip() for t in re.split(r"\s\+\s", f" {side.strip()} ") if t.strip()]
        if not terms:
            problems.append(Problem(
                reason=f"has no {'substrates' if sign < 0 else 'products'}", field="equation",
                value=text, record=where,
                fix="a part's reaction converts metabolites: write both sides"))
        for term in terms:
            words = term.split()
            coef, mid = (1.0, words[0]) if len(words) == 1 else (None, words[-1])
            if len(words) == 2 and _NUMBER.match(words[0]):
                coef = float(words[0].strip("()"))
            if coef is None or len(words) > 2 or not _ID.match(mid) or coef <= 0:
                problems.append(Problem(
                    reason="is not a term 'coefficient metabolite_id'", field="equation",
                    value=term, record=where,
                    fix="write each term as an id or a positive number, a space and an id "
                        "(2 accoa_c), terms joined by ' + '"))
                continue
            coefficients[mid] = coefficients.get(mid, 0.0) + sign * coef
    if problems:
        raise ValidationFailed(f"the equation of {where} cannot be read", problems)
    return Equation({k: v for k, v in coefficients.items() if v != 0}, arrow[1])


def normal_ec(text: str) -> str | None:
    """An EC number as ``2.4.1.69`` (``EC `` prefix dropped); ``None`` if it is not one."""
    match = _EC.match(text.strip())
    return ".".join(match.groups()) if match else None
