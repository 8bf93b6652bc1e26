"""The shape of the code, checked by walking its imports (docs/decisions/0009-service-layer.md).

- **Adapters** (CLI, API, pages, demo, the app factory) call services: they never import the
  store, the database, SQLAlchemy, DuckDB or pyarrow.
- **Services** own use cases, transactions and the access rule: they use the store, never
  SQLAlchemy, DuckDB or pyarrow themselves, and never an adapter.
- **Cores** (record kinds, sequence, breeding, profiles, search values, import parsing,
  export formats, the model types) are pure: no store, database or services.
- **Store** (``lanhai.store``, ``lanhai.db``) is the only code that knows SQL, Parquet and
  the data folder; it never imports services or adapters.

Also: no module keeps mutable state of its own (a cache, a registry, a lock) beside the bank
that owns it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "lanhai"

ADAPTERS = ("lanhai.cli", "lanhai.api", "lanhai.web", "lanhai.demo", "lanhai.app")
SERVICES = ("lanhai.services", "lanhai.bank")
CORES = ("lanhai.kinds", "lanhai.sequence", "lanhai.breeding", "lanhai.profiles",
         "lanhai.search", "lanhai.imports", "lanhai.exports", "lanhai.model", "lanhai.market",
         "lanhai.programme", "lanhai.genomes", "lanhai.screening", "lanhai.design")
STORE = ("lanhai.store", "lanhai.db")
SHARED = ("lanhai.errors", "lanhai.problem_text", "lanhai.settings", "lanhai.limits",
          "lanhai.executors", "lanhai")
#: libraries that read or write the bank's storage: only the store may use them
STORAGE_LIBRARIES = ("sqlalchemy", "alembic", "duckdb", "pyarrow", "psycopg")

FORBIDDEN: dict[tuple[str, ...], tuple[str, ...]] = {
    ADAPTERS: (*STORE, *STORAGE_LIBRARIES),
    SERVICES: (*ADAPTERS, *STORAGE_LIBRARIES),
    CORES: (*STORE, *SERVICES, *ADAPTERS, *STORAGE_LIBRARIES),
    STORE: (*SERVICES, *ADAPTERS),
}


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _layer(module: str) -> tuple[str, ...] | None:
    for layer in (ADAPTERS, SERVICES, CORES, STORE):
        if _within(module, layer):
            return layer
    return None


def modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path, ast.parse(path.read_text("utf-8"))


def imports_of(module: str, path: Path, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, imported module) of every import, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield node.lineno, base
            for alias in node.names:  # `from lanhai import store` imports lanhai.store
                yield node.lineno, f"{base}.{alias.name}"


def violations() -> list[str]:
    found = []
    for module, path, tree in modules():
        layer = _layer(module)
        if layer is None:
            continue
        for line, imported in imports_of(module, path, tree):
            if _within(imported, FORBIDDEN[layer]) and not _within(imported, (module,)):
                found.append(f"{path.relative_to(SRC.parent)}:{line}: {module} imports "
                             f"{imported}")
    return sorted(set(found))


def test_every_module_belongs_to_a_layer() -> None:
    stray = [m for m, _, _ in modules()
             if _layer(m) is None and m not in SHARED]
    assert stray == []


def test_imports_point_down_the_layers() -> None:
    assert violations() == []


def test_only_the_store_builds_sql_or_names_the_schema() -> None:
    """Outside lanhai.store and lanhai.db nothing references the schema's tables or runs
    SQL on a connection (``.execute`` / ``.exec_driver_sql``)."""
    found = []
    for module, path, tree in modules():
        if _within(module, STORE):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in (
                    "exec_driver_sql", "execute", "executemany"):
                found.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.Name) and node.id in ("records", "links", "versions",
                                                          "identifiers", "api_tokens") \
                    and isinstance(node.ctx, ast.Load) and _names_schema(tree):
                found.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: {node.id}")
    assert found == []


def _names_schema(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.ImportFrom) and (n.module or "").endswith("db.schema")
               for n in ast.walk(tree))


MUTATORS = {"add", "append", "clear", "discard", "extend", "insert", "pop", "popitem",
            "remove", "setdefault", "update"}
STATEFUL_CALLS = {"Lock", "RLock", "Condition", "WeakKeyDictionary", "WeakValueDictionary",
                  "defaultdict", "OrderedDict", "Event", "Semaphore"}


def test_no_module_keeps_mutable_state() -> None:
    """Caches, registries and locks belong to the bank (or a service of it), not to a
    module: a module-level container that functions change, a module-level lock, or a
    ``global`` statement is shared by every bank a process opens."""
    found = []
    for _, path, tree in modules():
        where = path.relative_to(SRC.parent)
        containers = set()
        for node in tree.body:
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if isinstance(node, ast.AnnAssign) else [])
            value = getattr(node, "value", None)
            if value is None:
                continue
            for target in targets:
                if not isinstance(target, ast.Name):
                    continue
                if isinstance(value, (ast.Dict, ast.List, ast.Set)) or (
                        isinstance(value, ast.Call) and _called(value) in (
                            {"dict", "list", "set"} | STATEFUL_CALLS)):
                    containers.add(target.id)
                if isinstance(value, ast.Call) and _called(value) in STATEFUL_CALLS:
                    found.append(f"{where}:{node.lineno}: module-level {target.id}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                found.append(f"{where}:{node.lineno}: global {', '.join(node.names)}")
            for func in (n for n in [node] if isinstance(n, (ast.FunctionDef,
                                                            ast.AsyncFunctionDef))):
                for inner in ast.walk(func):
                    name = _mutated(inner)
                    if name in containers:
                        found.append(f"{where}:{inner.lineno}: {func.name} changes {name}")
    assert found == []


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _mutated(node: ast.AST) -> str | None:
    """The name a statement changes in place (x.add(…), x[k] = …, del x[k]), if any."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in MUTATORS and isinstance(node.func.value, ast.Name):
        return node.func.value.id
    targets: list[ast.expr] = []
    if isinstance(node, (ast.Assign, ast.Delete)):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        targets = [node.target]
    for target in targets:
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            return target.value.id
    return None


@pytest.mark.parametrize("snippet, expected", [
    ("import sqlalchemy", "sqlalchemy"),
    ("from lanhai.store import records", "lanhai.store.records"),
    ("from .store import records", "lanhai.store"),
])
def test_the_import_walk_sees_every_form_of_import(tmp_path: Path, snippet: str,
                                                   expected: str) -> None:
    """The checks above would pass vacuously if the walk missed an import form."""
    path = tmp_path / "mod.py"
    path.write_text(snippet + "\n")
    found = {name for _, name in imports_of("lanhai.mod", path, ast.parse(snippet))}
    assert expected in found
