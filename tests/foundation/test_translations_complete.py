"""Every word people read exists in Spanish and Brazilian Portuguese (locale/README.md).

Two ways a string goes untranslated, two tests: an entry of a catalogue left empty or fuzzy (or
with placeholders that differ from the source, which would crash or garble the page), and a
string marked for translation in the code or a template that never reached the catalogues
because nobody ran `makemessages`. The second regenerates copies of the catalogues in a temporary
folder, exactly as locale/README.md says, and fails naming each string that came in empty."""

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(settings.BASE_DIR)
CATALOGUES = ["es", "pt_BR"]
# locale/README.md's list: what is not the product's own text.
IGNORE = [".venv", "var", "staticfiles", "bench", "tests", "node_modules"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfi]|%[sdfi]|\{\w*\}")


def _catalogue(root: Path, language: str) -> polib.POFile:
    return polib.pofile(str(root / language / "LC_MESSAGES" / "django.po"))


def _untranslated(po: polib.POFile) -> list[str]:
    return [entry.msgid for entry in po if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags)]


@pytest.mark.parametrize("language", CATALOGUES)
def test_every_entry_of_the_catalogue_is_translated(language: str) -> None:
    assert _untranslated(_catalogue(ROOT / "locale", language)) == []


@pytest.mark.parametrize("language", CATALOGUES)
def test_translations_keep_the_placeholders_of_the_source(language: str) -> None:
    broken = []
    for entry in _catalogue(ROOT / "locale", language):
        if entry.obsolete or not entry.translated():
            continue
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for translation in translations:
            found = sorted(PLACEHOLDER.findall(translation))
            # A singular may drop the count ("un pedido" for "%(n)s order"); names may not change.
            if found != wanted and not (entry.msgid_plural and set(found) <= set(wanted)):
                broken.append(f"{entry.msgid!r}: {translation!r}")
    assert broken == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext, msgmerge)")
def test_every_string_marked_in_the_code_is_in_the_catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # makemessages writes into the `locale` folder it finds beside the sources it walks, so it
    # runs on a copy of the sources: the repository's catalogues are never touched.
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*IGNORE, ".git", "__pycache__", "*.mo", "media"))
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=CATALOGUES, ignore_patterns=IGNORE, no_obsolete=True, verbosity=0)
    missing = {language: _untranslated(_catalogue(copy / "locale", language)) for language in CATALOGUES}
    listed = "\n".join(f"{language}: {msgid!r}" for language, msgids in missing.items() for msgid in msgids)
    assert not listed, (
        "strings marked for translation but missing from the catalogues (locale/README.md, steps 1-2):\n" + listed
    )
