"""The English validation texts written in the source, found with :mod:`ast`.

Every literal or f-string handed as ``reason``/``fix`` to ``FieldError(...)`` or
``Problem(...)`` (or to a local helper that passes its arguments on to one, such as
``Table.fail`` or ``validate_fields``' ``problem``), and every message of an error raised
(``ValidationFailed``, ``UsageError``, ``Conflict`` ...), becomes a :class:`Text`: its
literal pieces and a :class:`Hole` where a formatted value goes. A text built in steps is
followed through the local variables it is built from (``fix = f"..." if ... else "..."``);
a formatted value that is one of a few literals (``{'s' if n > 1 else ''}``, ``{verb}``)
gives one text per literal, so that every English sentence the code can write is listed.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "lanhai"
#: the modules whose validation texts the catalogue must translate
MODULES = ("kinds/*.py", "imports/*.py", "services/imports.py", "services/catalog.py",
           "services/links.py",
           # a breeder's files, checks and analyses, and the breeding service, API and forms
           "breeding/io.py", "breeding/validate.py", "breeding/analyses.py",
           "breeding/design.py", "breeding/mating.py", "breeding/reml.py", "breeding/cv.py",
           "breeding/ssgblup.py", "breeding/predict.py", "services/breeding.py",
           "api/breeding_inputs.py", "web/breeding_forms.py",
           # genome projects, assemblies' quality and standards, and the genome service
           "genomes/*.py", "services/genomes.py",
           # programme monitoring: indicators, quarters, reported updates
           "programme/*.py", "services/programme.py",
           # the technology market: deals, incentive rules, matching
           "market/*.py", "services/market*.py",
           # compound screening: assay tables, profiles and glycans
           "screening/assays.py", "screening/profile.py", "screening/glycans.py",
           # strain and pathway design on genome-scale models
           "design/*.py", "services/design.py")
#: calls whose first two arguments (or ``reason=``/``fix=``) are a reason and a fix
PROBLEM_CALLS = ("FieldError", "Problem")
#: errors whose first argument (or ``message=``) is their message
MESSAGE_CALLS = ("ValidationFailed", "UsageError", "Conflict", "NotFound", "StaleVersion",
                 "Forbidden", "Unauthorized", "Busy", "ConcurrentChange", "LanhaiError")


@dataclass(frozen=True)
class Hole:
    """A formatted value; the same expression written the same way is the same hole."""

    source: str


#: a text's pieces: literal text, or a formatted value
Pieces = tuple[str | Hole, ...]


@dataclass(frozen=True)
class Text:
    """One English text the code can write, and where."""

    pieces: Pieces
    role: str  # reason, fix or message
    where: str  # path:line

    @property
    def shown(self) -> str:
        """The text with ``…`` for each formatted value."""
        return "".join(p if isinstance(p, str) else "…" for p in self.pieces)

    def sample(self, values: tuple[str, ...] = ()) -> tuple[str, set[str]]:
        """The text with each formatted value one of ``values`` (then made-up words), a
        different one for each hole, and the values used."""
        tokens: dict[Hole, str] = {}
        out = []
        for piece in self.pieces:
            if isinstance(piece, Hole):
                if piece not in tokens:
                    n = len(tokens)
                    tokens[piece] = values[n] if n < len(values) else f"Qz{n + 1}"
                out.append(tokens[piece])
            else:
                out.append(piece)
        return "".join(out), set(tokens.values())


def module_paths() -> list[Path]:
    """The validation modules that exist now."""
    found: list[Path] = []
    for pattern in MODULES:
        found.extend(sorted(SRC.glob(pattern)))
    return found


def texts(paths: list[Path] | None = None) -> list[Text]:
    """Every validation text in ``paths`` (default: :func:`module_paths`), in file order."""
    out: list[Text] = []
    for path in paths if paths is not None else module_paths():
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        where = path.relative_to(SRC.parent) if path.is_relative_to(SRC.parent) else path
        out.extend(_Module(tree, where.as_posix()).texts())
    return out


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


class _Module:
    def __init__(self, tree: ast.Module, where: str) -> None:
        self.tree, self.where = tree, where
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        #: helper name -> {argument position: role}, for functions passing a parameter on
        self.helpers = self._helpers()

    # -- which calls carry texts -----------------------------------------------------------
    def _helpers(self) -> dict[str, dict[int | str, str]]:
        helpers: dict[str, dict[int | str, str]] = {}
        for func in ast.walk(self.tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = [a.arg for a in func.args.args]
            if params and params[0] in ("self", "cls"):
                params = params[1:]
            roles: dict[int | str, str] = {}
            for call in ast.walk(func):
                if not isinstance(call, ast.Call) or _name(call.func) not in PROBLEM_CALLS:
                    continue
                for role, arg in self._arguments(call, ("reason", "fix")).items():
                    if isinstance(arg, ast.Name) and arg.id in params:
                        roles[params.index(arg.id)] = role
                        roles[arg.id] = role
            if roles:
                helpers[func.name] = roles
        return helpers

    @staticmethod
    def _arguments(call: ast.Call, roles: tuple[str, ...]) -> dict[str, ast.expr]:
        found: dict[str, ast.expr] = {}
        for role, arg in zip(roles, call.args, strict=False):
            if not isinstance(arg, ast.Starred):
                found[role] = arg
        for keyword in call.keywords:
            if keyword.arg in roles:
                found[keyword.arg] = keyword.value
        return found

    def texts(self) -> Iterator[Text]:
        for call in ast.walk(self.tree):
            if not isinstance(call, ast.Call):
                continue
            name = _name(call.func)
            if name in PROBLEM_CALLS:
                args = self._arguments(call, ("reason", "fix"))
            elif name in MESSAGE_CALLS:
                args = self._arguments(call, ("message",))
            elif name in self.helpers:
                roles = self.helpers[name]
                args = {}
                for position, arg in enumerate(call.args):
                    if position in roles:
                        args[roles[position]] = arg
                for keyword in call.keywords:
                    if keyword.arg in roles:
                        args[roles[keyword.arg]] = keyword.value
            else:
                continue
            for role, expr in args.items():
                for pieces in self.alternatives(expr, strict=False) or []:
                    if any(isinstance(p, str) and p.strip() for p in pieces):
                        yield Text(_merge(pieces), role, f"{self.where}:{expr.lineno}")

    # -- what an expression can spell ------------------------------------------------------
    def alternatives(self, expr: ast.expr, strict: bool, depth: int = 0
                     ) -> list[Pieces] | None:
        """The texts ``expr`` can be, or None when it is not text built here.

        ``strict``: every branch must be known (a formatted value), else only the known
        branches count (a whole reason: ``err.fix or f"e.g. {x}"`` is at least the f-string).
        """
        if depth > 8:
            return None
        if isinstance(expr, ast.Constant):
            return [(expr.value,)] if isinstance(expr.value, str) else None
        if isinstance(expr, ast.JoinedStr):
            options: list[list[Pieces]] = []
            for part in expr.values:
                if isinstance(part, ast.Constant):
                    options.append([(str(part.value),)])
                elif isinstance(part, ast.FormattedValue):
                    known = None
                    if part.conversion == -1 and part.format_spec is None:
                        known = self.alternatives(part.value, True, depth + 1)
                    options.append(known or [(_hole(part),)])
            return [_join(combo) for combo in itertools.product(*options)]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self.alternatives(expr.left, strict, depth + 1)
            right = self.alternatives(expr.right, strict, depth + 1)
            if left is None and right is None:
                return None
            return [_join(combo) for combo in itertools.product(
                left or [(Hole(ast.unparse(expr.left)),)],
                right or [(Hole(ast.unparse(expr.right)),)])]
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
            return self.alternatives(expr.value, strict, depth + 1)  # a text cut short
        if isinstance(expr, ast.IfExp):
            return self._union([expr.body, expr.orelse], strict, depth)
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            return self._union(expr.values, strict, depth)
        if isinstance(expr, ast.Name):
            return self._union(self._assigned(expr), strict, depth)
        return None

    def _union(self, exprs: list[ast.expr], strict: bool, depth: int) -> list[Pieces] | None:
        out: list[Pieces] = []
        for expr in exprs:
            found = self.alternatives(expr, strict, depth + 1)
            if found is None:
                if strict:
                    return None
                continue
            out.extend(found)
        return out or None

    def _assigned(self, name: ast.Name) -> list[ast.expr]:
        """Values assigned to ``name`` in the function it is used in (none: not local)."""
        scope: ast.AST | None = self.parents.get(name)
        while scope is not None and not isinstance(
                scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            scope = self.parents.get(scope)
        if scope is None:
            return []
        values: list[ast.expr] = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name.id for t in node.targets):
                values.append(node.value)
            elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.For | ast.comprehension
                            ) and any(isinstance(t, ast.Name) and t.id == name.id
                                      for t in ast.walk(node.target)):
                # changed in place or a loop variable: not one text known here
                values.append(ast.Call(func=ast.Name("unknown"), args=[], keywords=[]))
        return values


def _hole(part: ast.FormattedValue) -> Hole:
    spec = ast.unparse(part.format_spec) if part.format_spec else ""
    return Hole(f"{ast.unparse(part.value)}!{part.conversion}:{spec}")


def _join(parts: tuple[Pieces, ...]) -> Pieces:
    return tuple(piece for part in parts for piece in part)


def _merge(pieces: Pieces) -> Pieces:
    """Adjacent literals joined, empty ones dropped."""
    out: list[str | Hole] = []
    for piece in pieces:
        if piece == "":
            continue
        last = out[-1] if out else None
        if isinstance(piece, str) and isinstance(last, str):
            out[-1] = last + piece
        else:
            out.append(piece)
    return tuple(out)
