"""The map of docs/ARCHITECTURE.md as tests: the import contracts hold, no context writes another
context's tables, the outbox is not read as state, each URL prefix has one module, and every
timer kind that is scheduled has a handler registered from `xinren.handlers`' one list.

These read the source (with `ast`) and import the modules; none needs a database."""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Table

import xinren

SRC = Path(xinren.__file__).parent
ROOT = SRC.parent.parent
WRITES = {"insert", "update", "delete"}
WRITE_FUNCTIONS = WRITES | {"pg_insert", "sqlite_insert"}
#: May read the outbox's rows: the events context, the transparency report (it counts what was
#: published), the HTTP feed and the demo (an adapter that shows what happened).
OUTBOX_READERS = ("xinren.events", "xinren.report", "xinren.api", "xinren.demo", "xinren.cli")


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        if "migrations" in rel.parts:
            continue
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


MODULES = _modules()


def _context(module: str) -> str:
    """'xinren.orders.service' -> 'orders'; kernel modules are their own context."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _owner(table: Table) -> str | None:
    """The context whose tables module defines `table`."""
    for module, _ in MODULES:
        if module.endswith(".tables") and module != "xinren.tables":
            mod = importlib.import_module(module)
            if any(v is table for v in vars(mod).values()):
                return _context(module)
    return None


def _resolve(mod: ModuleType, node: ast.expr) -> object:
    """The object a module-level name or dotted attribute refers to, or None."""
    if isinstance(node, ast.Name):
        return vars(mod).get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(mod, node.value)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _written_tables(module: str, path: Path) -> list[tuple[int, Table]]:
    mod = importlib.import_module(module)
    written = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        target: object = None
        if isinstance(func, ast.Attribute) and func.attr in WRITES:  # table.insert()
            target = _resolve(mod, func.value)
        elif isinstance(func, ast.Name) and func.id in WRITE_FUNCTIONS and node.args:
            target = _resolve(mod, node.args[0])  # insert(table), pg_insert(table)
        if isinstance(target, Table):
            written.append((node.lineno, target))
    return written


def test_no_context_writes_another_contexts_tables() -> None:
    """A context changes another's records only through that context's service functions."""
    owners: dict[str, str | None] = {}
    foreign = []
    for module, path in MODULES:
        here = _context(module)
        if here in ("api", "cli", "demo"):
            continue  # adapters call services; their own writes would be caught by review
        for line, table in _written_tables(module, path):
            owner = owners.setdefault(table.name, _owner(table))
            if owner is not None and owner != here:
                foreign.append(f"{path.relative_to(ROOT)}:{line} writes {owner}'s {table.name}")
    assert foreign == []


def test_the_check_sees_writes() -> None:
    """The finder itself works: it sees the timers service write its own table."""
    written = _written_tables("xinren.timers.service", SRC / "timers" / "service.py")
    assert "timers" in {t.name for _, t in written}


def test_outbox_is_not_read_as_state() -> None:
    """Contexts learn what happened from their own records or from events they subscribe to,
    never by querying the outbox (it is the integrating platform's feed)."""
    readers = []
    for module, path in MODULES:
        if module.startswith(OUTBOX_READERS):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "xinren.events.tables":
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


def _routes(router: Any) -> Iterator[Any]:
    """A router's routes, with those of the routers it includes (a routes package's parts)."""
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner)
        else:
            yield route


def test_each_url_prefix_is_defined_in_one_module() -> None:
    from xinren.api.routes import routers

    modules: dict[str, set[str]] = defaultdict(set)
    for router in routers():
        for route in _routes(router):
            path = router.prefix + getattr(route, "path", "")
            prefix = "/".join(path.split("/")[:3])
            module = route.endpoint.__module__  # type: ignore[attr-defined]
            modules[prefix].add(".".join(module.split(".")[:4]))  # a routes package counts once
    shared = {p: sorted(m) for p, m in modules.items() if len(m) > 1}
    assert shared == {}
    assert len(modules) >= 15


def _scheduled_kinds() -> dict[str, str]:
    """Every timer kind passed to timers.schedule/schedule_many/schedule_once, with where."""
    kinds: dict[str, str] = {}
    for module, path in MODULES:
        if module.startswith("xinren.timers"):
            continue
        mod = importlib.import_module(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in ("schedule", "schedule_many", "schedule_once"):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "timers"):
                continue
            arg = node.args[2] if len(node.args) > 2 else None
            kind = (
                arg.value
                if isinstance(arg, ast.Constant)
                else _resolve(mod, arg)
                if arg is not None
                else None
            )
            assert isinstance(kind, str), f"{path}:{node.lineno}: a timer kind that is not a name"
            kinds[kind] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return kinds


def _registering_modules() -> set[str]:
    found = set()
    for module, path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "handler"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "timers"
            ):
                found.add(module)
    return found


def test_every_scheduled_timer_kind_has_a_handler() -> None:
    from xinren import handlers
    from xinren.timers import service as timers

    handlers.load()
    kinds = _scheduled_kinds()
    assert len(kinds) >= 8  # the finder sees the kinds (auto-confirm, deadlines, collection...)
    missing = {k: where for k, where in kinds.items() if k not in timers._HANDLERS}
    assert missing == {}


def test_handler_modules_are_the_one_list() -> None:
    from xinren import handlers

    assert _registering_modules() == set(handlers.HANDLER_MODULES)


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed")
def test_import_contracts_hold() -> None:
    """The layers, no cycles, no adapter imports, pure models (pyproject.toml's contracts)."""
    done = subprocess.run(
        ["lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:]
