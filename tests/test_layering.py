"""The layering holds: a lower app never imports a higher one, and no app imports the
benchmarks, the tests or the marketplace stubs. (inventory <- orders <- marketplaces <-
fulfillment <- returns; all may use oms_site; the demo app is the top and may use all.)"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["oms_site", "inventory", "orders", "marketplaces", "fulfillment", "returns", "demo"]
OUTSIDE = {"bench", "tests", "sandboxes"}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_its_own_layer_and_those_below(app):
    allowed_below = set(LAYERS[: LAYERS.index(app) + 1])
    forbidden = (set(LAYERS) - allowed_below) | OUTSIDE
    offenders = []
    for path in sorted((ROOT / app).rglob("*.py")):
        wrong = _imported_packages(path) & forbidden
        if wrong:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(wrong))}")
    assert not offenders, "\n".join(offenders)
