"""Every import between the packages of ``app`` points down the layers.

Packages of one layer never import each other: fetching never analyses and analysis never
fetches (fetch and engine), and neither asks the registry (verify).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# Higher layers may import lower ones, never the reverse or a sibling of the same layer.
LAYERS: dict[str, int] = {
    "cli": 9,
    "service": 8,
    "web": 7,
    "api": 6,
    "jobs": 5,
    "pipeline": 4,
    "training": 4,
    "storage": 3,
    "fetch": 2,
    "verify": 2,
    "engine": 2,
    "extract": 1,
    "settings": 0,
    "__init__": 0,
}


def _package(path: Path) -> str:
    return path.relative_to(APP).parts[0].removesuffix(".py")


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "app":  # ``from app import settings`` names a module
                names = [f"app.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "app":
                top = parts[1] if len(parts) > 1 else "__init__"
                is_module = (APP / top).is_dir() or (APP / f"{top}.py").is_file()
                found.add(top if is_module else "__init__")  # ``from app import __version__``
    return found


MODULES = sorted(APP.rglob("*.py"))


def test_every_package_has_a_layer() -> None:
    packages = {_package(path) for path in MODULES}
    assert packages <= LAYERS.keys(), f"give these a layer: {sorted(packages - LAYERS.keys())}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(APP)))
def test_imports_point_down(path: Path) -> None:
    here = _package(path)
    imported = _imported_packages(path) - {here}
    assert imported <= LAYERS.keys(), f"give these a layer: {sorted(imported - LAYERS.keys())}"
    upward = sorted(other for other in imported if LAYERS[other] >= LAYERS[here])
    assert not upward, f"app/{here} imports {upward}, which are not below it"
