"""Forecasting sits on inventory: the rest of inventory never imports it, and it never
imports an app above inventory (tests/test_layering.py checks the latter for all apps)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_rest_of_inventory_does_not_import_forecasting():
    offenders = []
    for path in sorted((ROOT / "inventory").rglob("*.py")):
        if "forecasting" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [("." * node.level) + node.module]
            if any("forecasting" in name for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders
