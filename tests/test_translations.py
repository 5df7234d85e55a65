"""Every page speaks English and Norwegian Bokmål.

- Every text a template shows (text between tags; ``title``, ``placeholder``,
  ``aria-label``, ``alt`` and ``data-label`` attributes) is marked for translation.
- Every marked text — in templates and in Python (``gettext``, ``gettext_lazy``,
  ``ngettext``, ``pgettext`` ...) — has a Norwegian translation in one of the catalogues
  (``<app>/locale/nb/LC_MESSAGES/django.po``, ``locale/nb/...``), not fuzzy, not empty.
- The compiled catalogues are used: a page renders in Norwegian.

After adding texts: ``make makemessages``, translate the new entries, ``make messages``.
"""

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
APPS = ["oms_site", "inventory", "orders", "marketplaces", "fulfillment", "returns", "demo"]
SKIP_PARTS = {"migrations", ".venv", "var", "node_modules"}
# Texts that are the same in every language (the product's name, symbols).
NOT_WORDS = {"OMS"}
TRANSLATED_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-label"}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = "\x00"
RAW_TAGS = {"script", "style", "code", "kbd"}


def template_files():
    # Each app's templates, and those of apps inside apps (inventory/forecasting).
    folders = [ROOT / "templates"] + [
        folder
        for app in APPS
        for folder in sorted((ROOT / app).rglob("templates"))
        if folder.is_dir() and not SKIP_PARTS.intersection(folder.relative_to(ROOT).parts)
    ]
    for folder in folders:
        if folder.exists():
            yield from sorted(p for p in folder.rglob("*.html") if p.is_file())


def python_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not SKIP_PARTS.intersection(path.relative_to(ROOT).parts):
                yield path


def _with_translations_hidden(source: str) -> str:
    """The template with every variable replaced by a placeholder, tags removed, and
    everything inside ``{% blocktranslate %}`` removed: what is left is HTML whose text
    nobody marked."""
    out, inside_block = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in ("blocktranslate", "blocktrans"):
                inside_block += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                inside_block -= 1
        elif token.token_type == TokenType.VAR:
            out.append(PLACEHOLDER)
        elif token.token_type == TokenType.TEXT and not inside_block:
            out.append(token.contents)
    return "".join(out)


def _has_words(text: str) -> bool:
    text = text.replace(PLACEHOLDER, " ")
    words = re.findall(r"[^\W\d_]{2,}", text)
    return any(word not in NOT_WORDS for word in words)


class _UnmarkedText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._raw = 0  # inside <script>, <style>, <code> or <kbd>: not prose

    def handle_starttag(self, tag, attrs):
        if tag in RAW_TAGS:
            self._raw += 1
        for name, value in attrs:
            if name in TRANSLATED_ATTRIBUTES and value and _has_words(value):
                self.found.append(f'{name}="{value.strip()}"')

    def handle_endtag(self, tag):
        if tag in RAW_TAGS and self._raw:
            self._raw -= 1

    def handle_data(self, data):
        if not self._raw and _has_words(data):
            self.found.append(data.strip().replace(PLACEHOLDER, "…"))


@pytest.mark.parametrize("path", list(template_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_template_texts_are_marked_for_translation(path):
    parser = _UnmarkedText()
    parser.feed(_with_translations_hidden(path.read_text()))
    parser.close()
    assert not parser.found, (
        f"{path.relative_to(ROOT)} shows text not marked for translation "
        f"(use {{% translate %}} or {{% blocktranslate %}}): {parser.found}"
    )


def _messages(fileobj, *, source: str):
    for _lineno, message, _comments, context in extract(
        "python", fileobj, keywords=KEYWORDS, options={"encoding": "utf-8"}
    ):
        yield context, message, source


def marked_messages():
    for path in template_files():
        python_like = templatize(path.read_text(), origin=str(path))
        yield from _messages(io.BytesIO(python_like.encode()), source=str(path.relative_to(ROOT)))
    for path in python_files():
        with path.open("rb") as fileobj:
            yield from _messages(fileobj, source=str(path.relative_to(ROOT)))


def norwegian_catalogue() -> dict:
    translations = {}
    for po in sorted(ROOT.glob("**/locale/nb/LC_MESSAGES/django.po")):
        if SKIP_PARTS.intersection(po.relative_to(ROOT).parts):
            continue
        with po.open("rb") as source:
            for message in read_po(source, locale="nb"):
                if message.id and not message.fuzzy:
                    translations[(message.context, message.id)] = message.string
    return translations


def _translated(value) -> bool:
    if isinstance(value, (tuple, list)):
        return all(part for part in value)
    return bool(value)


def test_every_marked_text_has_a_norwegian_translation():
    catalogue = norwegian_catalogue()
    missing = sorted(
        {
            f"{source}: {message!r}" + (f" (context {context!r})" if context else "")
            for context, message, source in marked_messages()
            if message and not _translated(catalogue.get((context, message)))
        }
    )
    assert not missing, (
        "Texts without a Norwegian translation (make makemessages, translate them in the "
        "nb django.po, make messages):\n" + "\n".join(missing)
    )


def test_pages_render_in_norwegian(client, django_user_model):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="nb")
    html = response.content.decode()
    assert 'lang="nb"' in html
    assert "Logg inn" in html
