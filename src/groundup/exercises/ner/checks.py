"""Checks for the ner exercise, against groundup.finetune.ner (entities, entity_scores and
align_labels, whose results equal seqeval's default mode and the word_ids()-based alignment
of transformers' token-classification guide).

Tag sequences are drawn from seeded generators over three types, one with a "-" in its name,
and include the malformed sequences real taggers produce (I- after O, I- after another
type).
"""

from __future__ import annotations

import random
from types import ModuleType

from groundup.exercises.checking import Check, Mismatch, call, check, excerpt, require
from groundup.finetune.ner import align_labels, entities, entity_scores
from groundup.i18n import Msg

FUNCTIONS = ["get_entities", "entity_scores", "align_labels"]

REFERENCE = """from groundup.finetune.ner import align_labels as _align
from groundup.finetune.ner import entities, entity_scores as _scores


def get_entities(tags):
    return [tuple(e) for e in entities(tags)]


def entity_scores(true_tags, predicted_tags):
    micro = _scores(true_tags, predicted_tags)["micro"]
    return micro.precision, micro.recall, micro.f1


def align_labels(tags, word_ids, label_to_id):
    return _align(tags, word_ids, label_to_id)
"""

KINDS = ("PER", "LOC", "creative-work")
TAGS = ["O"] + [f"{p}-{k}" for k in KINDS for p in ("B", "I")]
LABEL_TO_ID = {tag: i for i, tag in enumerate(TAGS)}


def random_tags(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(TAGS) for _ in range(n)]


def expected_entities(tags: list[str]) -> list[tuple[str, int, int]]:
    return [tuple(e) for e in entities(tags)]  # type: ignore[misc]


def msg(text: str) -> Msg:
    return Msg(text, text)


def same_entities(module: ModuleType, tags: list[str]) -> None:
    fn = require(module, "get_entities")
    compared = msg(f"get_entities({tags})")
    got = call(compared, fn, list(tags))
    expected = expected_entities(tags)
    if [tuple(e) for e in got or []] != expected:
        raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got))


def close(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) <= 1e-9


def same_scores(module: ModuleType, true: list[list[str]], predicted: list[list[str]],
                label: str) -> None:  # fmt: skip
    fn = require(module, "entity_scores")
    compared = Msg(f"entity_scores on {label}", f"entity_scores auf {label}")
    got = call(compared, fn, [list(s) for s in true], [list(s) for s in predicted])
    micro = entity_scores(true, predicted)["micro"]
    expected = (micro.precision, micro.recall, micro.f1)
    ok = isinstance(got, tuple | list) and len(got) == 3
    if not ok or not all(close(g, e) for g, e in zip(got, expected, strict=True)):
        raise Mismatch(compared, expected=f"(precision, recall, f1) = {expected}",
                       got=excerpt(got))  # fmt: skip


def same_alignment(module: ModuleType, tags: list[str], word_ids: list[int | None]) -> None:
    fn = require(module, "align_labels")
    compared = msg(f"align_labels({tags}, {word_ids})")
    got = call(compared, fn, list(tags), list(word_ids), dict(LABEL_TO_ID))
    expected = align_labels(tags, word_ids, LABEL_TO_ID)
    if list(got or []) != expected:
        raise Mismatch(compared, expected=excerpt(expected), got=excerpt(got))


def random_word_ids(rng: random.Random, n_words: int, cut: bool) -> list[int | None]:
    """[None, 0, 0, 1, 2, 2, 2, ..., None]; with cut, truncated inside a word."""
    ids: list[int | None] = [w for w in range(n_words) for _ in range(rng.randint(1, 3))]
    if cut and len(ids) > 2:
        ids = ids[: rng.randint(1, len(ids) - 1)]
    return [None, *ids, None]


# ---------------------------------------------------------------- the checks, basic to subtle


def defines_functions(module: ModuleType) -> None:
    for name in FUNCTIONS:
        require(module, name)


def entities_simple(module: ModuleType) -> None:
    for tags in (["O", "O"], ["B-PER", "I-PER", "O", "B-LOC", "O"], ["O", "B-LOC", "O"]):
        same_entities(module, tags)


def entities_at_end(module: ModuleType) -> None:
    for tags in (["O", "B-PER", "I-PER"], ["B-LOC"], ["O", "O", "B-PER"]):
        same_entities(module, tags)


def entities_type_change(module: ModuleType) -> None:
    for tags in (["B-PER", "I-LOC", "O"], ["B-LOC", "I-LOC", "I-PER", "I-PER", "O"]):
        same_entities(module, tags)


def entities_stray_inside(module: ModuleType) -> None:
    for tags in (["O", "I-PER", "I-PER", "O"], ["I-LOC"], ["B-PER", "O", "I-PER"]):
        same_entities(module, tags)


def entities_touching(module: ModuleType) -> None:
    for tags in (["B-PER", "B-PER", "O"], ["B-LOC", "I-LOC", "B-LOC", "I-LOC"]):
        same_entities(module, tags)


def entities_random(module: ModuleType) -> None:
    rng = random.Random(7)
    for n in (1, 2, 5, 9, 14, 20, 30):
        for _ in range(3):
            same_entities(module, random_tags(rng, n))


def scores_match_seqeval(module: ModuleType) -> None:
    rng = random.Random(11)
    for seed in range(4):
        true = [random_tags(rng, rng.randint(1, 12)) for _ in range(6)]
        predicted = [s if rng.random() < 0.4 else random_tags(rng, len(s)) for s in true]
        same_scores(module, true, predicted, f"random sentences (seed {seed})")
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "O"], ["O", "B-PER"]]
    predicted = [["B-PER", "I-PER", "O", "O"], ["B-LOC", "O"], ["B-LOC", "B-PER"]]
    same_scores(module, true, predicted, "3 sentences")  # precision 3/4, recall 3/4


def scores_per_sentence(module: ModuleType) -> None:
    true = [["B-PER", "O"], ["O", "O"]]
    predicted = [["O", "O"], ["B-PER", "O"]]  # the right span, in the wrong sentence
    same_scores(module, true, predicted, "[B-PER O] vs [O O], then [O O] vs [B-PER O]")


def scores_without_entities(module: ModuleType) -> None:
    same_scores(module, [["B-PER", "O"]], [["O", "O"]], "a prediction without entities")
    same_scores(module, [["O", "O"]], [["B-LOC", "O"]], "a truth without entities")
    same_scores(module, [["O"]], [["O"]], "no entities at all")


def alignment_first_sub_token(module: ModuleType) -> None:
    same_alignment(module, ["B-PER", "I-PER", "O"], [None, 0, 1, 1, 2, None])
    rng = random.Random(3)
    for _ in range(6):
        n = rng.randint(1, 8)
        same_alignment(module, random_tags(rng, n), random_word_ids(rng, n, cut=False))


def alignment_special_tokens(module: ModuleType) -> None:
    same_alignment(module, ["O", "B-LOC"], [None, 0, 1, None])
    rng = random.Random(5)
    for _ in range(6):
        n = rng.randint(2, 8)
        same_alignment(module, random_tags(rng, n), random_word_ids(rng, n, cut=True))


CHECKS: list[Check] = [
    check("defines_functions",
          ("get_entities, entity_scores and align_labels exist",
           "get_entities, entity_scores und align_labels existieren"),
          ("Define the three functions with the names and arguments of the stub.",
           "Definieren Sie die drei Funktionen mit den Namen und Argumenten des Stubs."),
          defines_functions),
    check("entities_simple",
          ("get_entities on well-formed IOB2 tags", "get_entities auf wohlgeformten IOB2-Tags"),
          ("B-X opens an entity, I-X extends it, O closes it; end is one past the last word.",
           "B-X öffnet eine Entität, I-X verlängert sie, O schließt sie; ende liegt eins hinter "
           "dem letzten Wort."),
          entities_simple),
    check("entities_at_end",
          ("an entity that reaches the last word", "eine Entität, die bis zum letzten Wort reicht"),
          ("After the loop, an entity may still be open: close it (or append an 'O').",
           "Nach der Schleife kann noch eine Entität offen sein: schließen Sie sie (oder hängen "
           "Sie ein 'O' an)."),
          entities_at_end),
    check("entities_type_change",
          ("I- of another type ends the entity", "I- eines anderen Typs beendet die Entität"),
          ("I-LOC after B-PER cannot continue the person: compare the types.",
           "I-LOC nach B-PER kann die Person nicht fortsetzen: vergleichen Sie die Typen."),
          entities_type_change),
    check("entities_stray_inside",
          ("a stray I- opens an entity (seqeval's default)",
           "ein verirrtes I- öffnet eine Entität (Standard von seqeval)"),
          ("conlleval and seqeval's default mode read I-X after O as the start of an entity.",
           "conlleval und der Standardmodus von seqeval lesen I-X nach O als Beginn einer "
           "Entität."),
          entities_stray_inside),
    check("entities_touching",
          ("B- right after the same type starts a new entity",
           "B- direkt nach demselben Typ beginnt eine neue Entität"),
          ("Only I-X continues an entity; B-X always opens a new one.",
           "Nur I-X setzt eine Entität fort; B-X beginnt immer eine neue."),
          entities_touching),
    check("entities_random",
          ("get_entities on random tag sequences", "get_entities auf zufälligen Tag-Folgen"),
          ("The type is everything after the first '-': 'B-creative-work' has type "
           "'creative-work'.",
           "Der Typ ist alles nach dem ersten '-': 'B-creative-work' hat den Typ "
           "'creative-work'."),
          entities_random),
    check("scores_match_seqeval",
          ("entity_scores equals seqeval's micro precision, recall, F1",
           "entity_scores gleicht seqevals Mikro-Precision, -Recall und -F1"),
          ("Return (precision, recall, f1) in this order; precision divides by the predicted "
           "entities, recall by the true ones.",
           "Geben Sie (precision, recall, f1) in dieser Reihenfolge zurück; Precision teilt "
           "durch die vorhergesagten Entitäten, Recall durch die wahren."),
          scores_match_seqeval),
    check("scores_per_sentence",
          ("an entity matches only in its own sentence",
           "eine Entität passt nur in ihrem eigenen Satz"),
          ("Key every entity by its sentence index too, e.g. (n, type, start, end).",
           "Versehen Sie jede Entität auch mit ihrem Satzindex, z. B. (n, typ, start, ende)."),
          scores_per_sentence),
    check("scores_without_entities",
          ("no division by zero without entities", "keine Division durch null ohne Entitäten"),
          ("With no predicted (or no true) entities the value is 0.0, as seqeval gives.",
           "Ohne vorhergesagte (oder ohne wahre) Entitäten ist der Wert 0.0, wie bei seqeval."),
          scores_without_entities),
    check("alignment_first_sub_token",
          ("align_labels labels only the first sub-token of each word",
           "align_labels beschriftet nur das erste Sub-Token jedes Wortes"),
          ("A token whose word id equals the previous token's continues a word: -100.",
           "Ein Token mit derselben Wort-ID wie das vorige setzt ein Wort fort: -100."),
          alignment_first_sub_token),
    check("alignment_special_tokens",
          ("[CLS], [SEP] and truncated words", "[CLS], [SEP] und abgeschnittene Wörter"),
          ("word id None marks [CLS] and [SEP]: they get -100, never a tag.",
           "Die Wort-ID None markiert [CLS] und [SEP]: Sie bekommen -100, nie ein Tag."),
          alignment_special_tokens),
]  # fmt: skip
