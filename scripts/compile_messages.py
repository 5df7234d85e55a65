"""Compile every translation catalogue (``*/locale/*/LC_MESSAGES/django.po``) to ``.mo``.

Django's ``compilemessages`` needs GNU gettext's ``msgfmt``; Babel (already a dependency,
pure Python) reads and writes the same formats, so ``make`` needs nothing from the system.
A catalogue is compiled only when its ``.po`` is newer than its ``.mo``. Fuzzy entries are
left out, as msgfmt does.
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "var", "node_modules", ".git"}


def catalogues(root: Path = ROOT):
    for po in sorted(root.glob("**/locale/*/LC_MESSAGES/*.po")):
        if not SKIP.intersection(po.relative_to(root).parts):
            yield po


def compile_catalogue(po: Path, *, force: bool = False) -> bool:
    mo = po.with_suffix(".mo")
    if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return False
    with po.open("rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    tmp = mo.with_suffix(".mo.tmp")
    with tmp.open("wb") as target:
        write_mo(target, catalog, use_fuzzy=False)
    tmp.replace(mo)
    return True


def main(argv) -> int:
    force = "--force" in argv
    compiled = [po for po in catalogues() if compile_catalogue(po, force=force)]
    for po in compiled:
        print(f"compiled {po.relative_to(ROOT).with_suffix('.mo')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
