import re
import string

import pytest

from groundup import i18n
from groundup.cli import ARGPARSE_DE
from groundup.i18n import MESSAGES, Msg


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages_with_the_same_fields(key: str) -> None:
    msg = MESSAGES[key]
    assert msg.en.strip() and msg.de.strip()
    assert fields(msg.en) == fields(msg.de), key


def test_german_differs_from_english_where_it_is_a_sentence() -> None:
    same = [
        k for k, m in MESSAGES.items() if m.en == m.de and re.search(r"[a-z]{4} [a-z]{4}", m.en)
    ]
    assert same == []


def test_language_comes_from_flag_then_env_then_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDUP_LANG", "de")
    assert i18n.current_lang() == "de"
    i18n.set_lang("en")
    assert i18n.current_lang() == "en"
    i18n.set_lang(None)
    monkeypatch.delenv("GROUNDUP_LANG")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n.current_lang() == "de"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.current_lang() == "en"


def test_msg_formats_fields_in_the_chosen_language() -> None:
    msg = Msg("{n} steps", "{n} Schritte")
    assert msg.get("en", n=3) == "3 steps"
    assert msg.get("de", n=3) == "3 Schritte"


def test_argparse_translations_keep_their_placeholders() -> None:
    for en, de in ARGPARSE_DE.items():
        assert re.findall(r"%\(?\w*\)?[rs]", en) == re.findall(r"%\(?\w*\)?[rs]", de), en


def test_every_lab_setting_is_explained_in_both_languages() -> None:
    import dataclasses
    import importlib

    from groundup.path import steps

    common = {"preset", "seed", "device", "out", "data"}  # explained by the CLI itself
    for step in steps.load().steps:
        if step.lab:
            lab = importlib.import_module(step.lab)
            explained = i18n.LAB_FIELDS | getattr(lab, "FIELD_HELP", {})
            for f in dataclasses.fields(lab.Config):
                if f.name not in common:
                    msg = explained[f.name]
                    assert msg.en and msg.de and msg.en != msg.de, f.name
