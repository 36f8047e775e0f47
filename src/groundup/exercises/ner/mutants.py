"""Planted bugs for the ner exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
def get_entities(tags):
    found = []
    start, current = None, None
    for i, tag in enumerate(tags + ["O"]):
        prefix, kind = (tag, None) if tag == "O" else (tag[0], tag[2:])
        continues = prefix == "I" and kind == current
        if current is not None and not continues:
            found.append((current, start, i))
            current = None
        if prefix == "B" or (prefix == "I" and not continues):
            start, current = i, kind
    return found


def entity_scores(true_tags, predicted_tags):
    true, predicted = set(), set()
    for n, (t, p) in enumerate(zip(true_tags, predicted_tags)):
        true |= {(n, e) for e in get_entities(t)}
        predicted |= {(n, e) for e in get_entities(p)}
    correct = len(true & predicted)
    precision = correct / len(predicted) if predicted else 0.0
    recall = correct / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def align_labels(tags, word_ids, label_to_id):
    labels, previous = [], None
    for word in word_ids:
        if word is None:
            labels.append(-100)
        elif word != previous:
            labels.append(label_to_id[tags[word]])
        else:
            labels.append(-100)
        previous = word
    return labels
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "no_flush_at_end",
        catches="entities_at_end",
        source=_plant('enumerate(tags + ["O"])', "enumerate(tags)"),
        note="an entity that runs to the last word is never closed",
    ),
    Mutant(
        "type_ignored",
        catches="entities_type_change",
        source=_plant(
            'continues = prefix == "I" and kind == current',
            'continues = prefix == "I" and current is not None',
        ),
        note="I-LOC right after B-PER extends the person",
    ),
    Mutant(
        "strict_reading",
        catches="entities_stray_inside",
        source=_plant('prefix == "B" or (prefix == "I" and not continues)', 'prefix == "B"'),
        note="an I- after O opens nothing (seqeval's strict mode, not the default)",
    ),
    Mutant(
        "b_continues",
        catches="entities_touching",
        source=_plant(
            'continues = prefix == "I" and kind == current',
            'continues = prefix in "BI" and kind == current',
        ),
        note="B-PER B-PER becomes one entity of two words",
    ),
    Mutant(
        "type_from_wrong_offset",
        catches="entities_random",
        source=_plant("(tag[0], tag[2:])", '(tag[0], tag.split("-")[-1])'),
        note="'B-creative-work' is read as type 'work'",
    ),
    Mutant(
        "precision_recall_swapped",
        catches="scores_match_seqeval",
        source=_plant("return precision, recall, f1", "return recall, precision, f1"),
    ),
    Mutant(
        "no_sentence_index",
        catches="scores_per_sentence",
        source=_plant(
            "true |= {(n, e) for e in get_entities(t)}\n"
            "        predicted |= {(n, e) for e in get_entities(p)}",
            "true |= set(get_entities(t))\n        predicted |= set(get_entities(p))",
        ),
        note="an entity in sentence 1 matches the same span in sentence 0",
    ),
    Mutant(
        "zero_division",
        catches="scores_without_entities",
        source=_plant("correct / len(predicted) if predicted else 0.0", "correct / len(predicted)"),
    ),
    Mutant(
        "label_every_sub_token",
        catches="alignment_first_sub_token",
        source=_plant(
            "        else:\n            labels.append(-100)\n        previous",
            "        else:\n            labels.append(label_to_id[tags[word]])\n        previous",
        ),
        note="continuation pieces are trained too",
    ),
    Mutant(
        "specials_tagged_O",
        catches="alignment_special_tokens",
        source=_plant(
            "if word is None:\n            labels.append(-100)",
            "if word is None:\n            labels.append(label_to_id['O'])",
        ),
        note="[CLS] and [SEP] are trained as O",
    ),
]
