"""The module and function size table of `src/xinren` (migrations left out): how many modules
are over 400 lines and functions over 60 and 80, the largest modules and every function over 80.
Run: `python scripts/sizes.py` (or give another source folder)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def sizes(root: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(lines, module) for every module and (lines, module:function) for every function."""
    modules: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        name = str(path.relative_to(root))
        modules.append((text.count("\n"), name))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                end = node.end_lineno or node.lineno
                functions.append((end - node.lineno + 1, f"{name}:{node.name}"))
    return modules, functions


def main(root: Path) -> None:
    modules, functions = sizes(root)
    print(f"src lines (no migrations): {sum(n for n, _ in modules)}, modules: {len(modules)}")
    print(
        f"modules over 400 lines: {sum(n > 400 for n, _ in modules)}; "
        f"functions over 60: {sum(n > 60 for n, _ in functions)}; "
        f"over 80: {sum(n > 80 for n, _ in functions)}; longest: {max(functions)}"
    )
    for n, m in sorted(modules, reverse=True)[:25]:
        print(f"  {n:5d} {m}")
    print("functions over 80:")
    for n, m in sorted(functions, reverse=True):
        if n > 80:
            print(f"  {n:5d} {m}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("src/xinren"))
