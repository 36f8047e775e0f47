"""Exercise ner: entities from BIO tags, entity-level scores, sub-word label alignment.

Write three functions in plain Python (no groundup.finetune.ner, no seqeval). Tags are
strings "O", "B-TYPE" or "I-TYPE"; a type may itself contain "-" ("B-creative-work").
Run `groundup check ner` to compare your functions with groundup.finetune.ner, whose
scores equal seqeval's.

DE: Übung ner: Entitäten aus BIO-Tags, Bewertung auf Entitätsebene, Ausrichtung der Labels
auf Subword-Tokens. Schreiben Sie drei Funktionen in reinem Python (ohne
groundup.finetune.ner und ohne seqeval). Tags sind Zeichenketten "O", "B-TYP" oder "I-TYP";
ein Typ darf selbst "-" enthalten ("B-creative-work"). `groundup check ner` vergleicht Ihre
Funktionen mit groundup.finetune.ner, dessen Werte mit seqeval übereinstimmen.
"""

from __future__ import annotations


def get_entities(tags: list[str]) -> list[tuple[str, int, int]]:
    """The entities of one sentence as (type, start, end), end exclusive, left to right.

    Read the tags as conlleval and seqeval's default mode do: an entity opens at B-X, and
    also at an I-X whose previous tag is not of type X (a "stray" I- after O or after
    another type); it continues while the next tag is I-X of the same type. B-X right
    after X closes the old entity and opens a new one. ["B-PER", "I-PER", "O", "I-LOC"]
    -> [("PER", 0, 2), ("LOC", 3, 4)].

    DE: Die Entitäten eines Satzes als (typ, start, ende), ende exklusiv, von links nach
    rechts. Lesen Sie die Tags wie conlleval und der Standardmodus von seqeval: Eine Entität
    beginnt bei B-X und auch bei einem I-X, dessen vorheriges Tag nicht vom Typ X ist (ein
    "verirrtes" I- nach O oder nach einem anderen Typ); sie geht weiter, solange I-X
    desselben Typs folgt. B-X direkt nach X schließt die alte Entität und beginnt eine neue.
    """
    raise NotImplementedError("TODO: collect the entities of the tag sequence")


def entity_scores(
    true_tags: list[list[str]], predicted_tags: list[list[str]]
) -> tuple[float, float, float]:
    """Micro-averaged entity-level (precision, recall, F1) over sentences.

    A predicted entity is correct only if the same sentence has a true entity with the same
    type, start and end. precision = correct / predicted, recall = correct / true,
    F1 = 2 P R / (P + R); any of them is 0.0 when its denominator is 0.

    DE: Mikro-gemittelte (Precision, Recall, F1) auf Entitätsebene über alle Sätze. Eine
    vorhergesagte Entität ist nur richtig, wenn derselbe Satz eine wahre Entität mit
    demselben Typ, Anfang und Ende hat. Precision = richtig / vorhergesagt, Recall =
    richtig / wahr, F1 = 2 P R / (P + R); jeder Wert ist 0.0, wenn sein Nenner 0 ist.
    """
    raise NotImplementedError("TODO: count correct, predicted and true entities")


def align_labels(
    tags: list[str], word_ids: list[int | None], label_to_id: dict[str, int]
) -> list[int]:
    """One label id per sub-word token.

    word_ids[k] is the index of the word token k came from, None for [CLS] and [SEP]
    (what transformers' BatchEncoding.word_ids() gives). The first token of each word gets
    label_to_id[tags[word]]; every later token of the same word and every None gets -100,
    the label cross-entropy ignores.

    DE: Eine Label-ID pro Subword-Token. word_ids[k] ist der Index des Wortes, aus dem Token
    k stammt, None für [CLS] und [SEP] (wie BatchEncoding.word_ids() in transformers). Das
    erste Token jedes Wortes bekommt label_to_id[tags[wort]]; jedes weitere Token desselben
    Wortes und jedes None bekommt -100, das Label, das die Kreuzentropie übergeht.
    """
    raise NotImplementedError("TODO: label the first sub-token of each word")
