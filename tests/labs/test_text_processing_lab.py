"""The text-processing lab at the micro preset (the first 150,000 characters of the corpus).

Measured at micro: vocabulary raw 2697 > lower 2379 = NFKC+casefold 2379 (the corpus is
ASCII) > lemmatised 1943 > stemmed 1820; Zipf slope -0.91 on ranks 1..300; the stemmer
agrees with NLTK on all 5,000 benchmark words. The test asks for the same order (each level
at least 5 % smaller than the one before, except NFKC+casefold on ASCII text), a slope in
[-1.2, -0.75], and 100 % agreement.
"""

from __future__ import annotations

import csv
import json

import pytest

from groundup.labs import runner
from groundup.labs.runner import LabError
from groundup.labs.text_processing import LEVELS, PRESETS, Config, run

GERMAN = (
    "Die STRASSE und die Straße sind dasselbe Wort. Der ﬁnale Entwurf kam z. B. am 3. Mai. "
    "Ｖｏｌｌｂｒｅｉｔｅ Buchstaben werden normalisiert. Die Häuser, das Haus und die Hauses "
    "stehen dort. Wir laufen, sie lief, ihr lauft und er läuft schnell nach Hause.\n\n"
    "Ein zweiter Absatz: Müller und Mueller schreiben E-Mails an info@example.de heute."
)


def micro(tmp_path, **overrides) -> Config:
    return runner.make_config(Config, PRESETS, "micro", out=str(tmp_path), quiet=True, **overrides)


def test_micro_vocabulary_shrinks_and_zipf_holds(tmp_path) -> None:
    report = run(micro(tmp_path))
    m = report.metrics
    sizes = [m[f"vocabulary_{level}"] for level in LEVELS]
    raw, lower, folded, lemmatized, stemmed = sizes
    assert raw > 1.05 * lower and folded == lower  # ASCII text: NFKC and casefold add nothing
    assert lower > 1.05 * lemmatized and lemmatized > 1.05 * stemmed > 1000
    assert -1.2 <= m["zipf_slope"] <= -0.75 and m["zipf_fit_ranks"] == 300
    assert m["stemmer_agreement_with_nltk"] == 1.0 and m["stemmer_words_per_s"] > 0
    assert m["characters"] == 150_000 and m["tokens"] > m["word_tokens"] > 15_000
    assert m["sentences"] >= m["paragraphs"] > 500

    for name in ("zipf_plot", "vocabulary_plot"):
        assert report.artifacts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(report.artifacts["ngrams_table"].open(encoding="utf-8")))
    bigrams = [r for r in rows if r["table"] == "bigrams"]
    assert len(bigrams) == 10 and bigrams[0]["ngram"] == "of the"
    counts = [int(r["count"]) for r in bigrams]
    assert counts == sorted(counts, reverse=True)
    no_stop = [r["ngram"] for r in rows if r["table"] == "bigrams_without_stop_words"]
    assert all("the" not in gram.split() for gram in no_stop)
    records = [json.loads(line) for line in report.artifacts["metrics"].read_text().splitlines()]
    assert records[-1]["stage"] == "stemmer" and records[-1]["words"] == 5000
    assert "bigrams_without_stop_words:" in report.text


def test_user_file_in_german_shows_what_casefold_and_nfkc_merge(tmp_path) -> None:
    path = tmp_path / "deutsch.txt"
    path.write_text(GERMAN, encoding="utf-8")
    m = run(micro(tmp_path / "out", data=str(path))).metrics
    # STRASSE/Straße, ﬁnale and the full-width word fold together only under NFKC + casefold
    assert m["vocabulary_raw"] > m["vocabulary_lower"] > m["vocabulary_nfkc_casefold"]
    assert m["paragraphs"] == 2 and m["sentences"] == 6  # "z. B." and "3. Mai" do not split


@pytest.mark.parametrize(
    ("overrides", "words"),
    [({"device": "cuda"}, "CPU"), ({"max_chars": -1}, "max_chars"),
     ({"zipf_max_rank": 2}, "zipf_max_rank"), ({"data": "/nonexistent/file.txt"}, "not found")],
)  # fmt: skip
def test_bad_settings_raise_lab_errors(tmp_path, overrides, words: str) -> None:
    with pytest.raises(LabError, match=words):
        run(micro(tmp_path, **overrides))


def test_non_utf8_and_too_short_files_raise_lab_errors(tmp_path) -> None:
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Grüße aus Köln".encode("latin-1"))
    with pytest.raises(LabError, match="UTF-8"):
        run(micro(tmp_path / "a", data=str(latin1)))
    short = tmp_path / "short.txt"
    short.write_text("Only a few words here.", encoding="utf-8")
    with pytest.raises(LabError, match="distinct words"):
        run(micro(tmp_path / "b", data=str(short)))
