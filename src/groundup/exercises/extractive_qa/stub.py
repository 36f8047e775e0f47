"""Exercise extractive_qa: scoring answers the SQuAD way, and finding the best answer span.

Write four functions in plain Python (no groundup.finetune.qa, no transformers, no
evaluate). The first three are the rules of the official SQuAD v1.1 evaluation script; the
last one decodes a model's start and end logits into an answer. Run
`groundup check extractive-qa` to compare them with groundup.finetune.qa.

DE: Übung extractive_qa: Antworten so bewerten wie SQuAD und die beste Antwortspanne finden.
Schreiben Sie vier Funktionen in reinem Python (ohne groundup.finetune.qa, transformers oder
evaluate). Die ersten drei sind die Regeln des offiziellen Auswertungsskripts von SQuAD
v1.1; die letzte dekodiert die Start- und End-Logits eines Modells zu einer Antwort.
`groundup check extractive-qa` vergleicht sie mit groundup.finetune.qa.
"""

from __future__ import annotations

import re  # noqa: F401  (you may want re.sub for the articles)
import string  # noqa: F401  (string.punctuation: the characters to drop)
from collections import Counter  # noqa: F401  (a multiset of words)


def normalize_answer(text: str) -> str:
    """The answer as the official script compares it, in this order: lower case; remove every
    character of string.punctuation (remove it, do not replace it with a space); replace the
    whole words "a", "an", "the" by a space; split on whitespace and join with single spaces.
    "  The U.S.-based  Company!" -> "usbased company".

    DE: Die Antwort so, wie das offizielle Skript sie vergleicht, in dieser Reihenfolge:
    Kleinbuchstaben; jedes Zeichen aus string.punctuation entfernen (entfernen, nicht durch
    ein Leerzeichen ersetzen); die ganzen Wörter "a", "an", "the" durch ein Leerzeichen
    ersetzen; an Leerraum trennen und mit einfachen Leerzeichen verbinden.
    """
    raise NotImplementedError("TODO: lower case, punctuation, articles, whitespace")


def exact_match(prediction: str, truth: str) -> float:
    """1.0 when both answers are equal after normalize_answer, else 0.0.

    DE: 1.0, wenn beide Antworten nach normalize_answer gleich sind, sonst 0.0.
    """
    raise NotImplementedError("TODO: compare the normalized answers")


def token_f1(prediction: str, truth: str) -> float:
    """F1 of the words of the normalized answers. Common words are counted as a multiset: a
    word that occurs twice in both answers counts twice. precision = common / predicted
    words, recall = common / true words, F1 = 2 P R / (P + R); no common word gives 0.0
    (also when an answer is empty after normalizing).

    DE: F1 der Wörter der normalisierten Antworten. Gemeinsame Wörter zählen als Multimenge:
    ein Wort, das in beiden Antworten zweimal vorkommt, zählt zweimal. precision = gemeinsam
    / vorhergesagte Wörter, recall = gemeinsam / richtige Wörter, F1 = 2 P R / (P + R); ohne
    gemeinsames Wort 0.0 (auch wenn eine Antwort nach dem Normalisieren leer ist).
    """
    raise NotImplementedError("TODO: precision and recall of the shared words")


def best_span(
    start_logits: list[float],
    end_logits: list[float],
    context_mask: list[bool],
    max_answer_length: int,
) -> tuple[int, int]:
    """The token pair (start, end) with the highest start_logits[start] + end_logits[end]
    among the valid ones: both tokens are context tokens (context_mask True), start <= end,
    and the span has at most max_answer_length tokens (end - start + 1 <= max_answer_length).
    All three lists have the same length T (one window). With no valid pair, return (0, 0).

    DE: Das Token-Paar (start, end) mit dem größten start_logits[start] + end_logits[end]
    unter den gültigen: beide Tokens gehören zum Kontext (context_mask True), start <= end,
    und die Spanne hat höchstens max_answer_length Tokens (end - start + 1 <=
    max_answer_length). Alle drei Listen haben dieselbe Länge T (ein Fenster). Gibt es kein
    gültiges Paar, geben Sie (0, 0) zurück.
    """
    raise NotImplementedError("TODO: search the valid (start, end) pairs")
