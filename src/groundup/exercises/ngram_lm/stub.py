"""Exercise ngram_lm: the probabilities of a bigram language model, with add-k smoothing and
with interpolated Kneser-Ney smoothing.

Write three functions in plain Python (no groundup.text.ngram_lm, no NLTK). Every function
gets the bigram counts of a training text as a dict {(previous, word): count}. The sentences
were padded with "<s>" in front and "</s>" at the end, so "<s>" appears as a previous token
and "</s>" as a word. `vocab` is the list of tokens the model predicts: every training
word, "</s>" and "<unk>" (never "<s>"); V = len(vocab). Run `groundup check ngram-lm` to
compare your functions with groundup.text.ngram_lm on random corpora.

DE: Übung ngram_lm: die Wahrscheinlichkeiten eines Bigramm-Sprachmodells mit Add-k-Glättung
und mit interpolierter Kneser-Ney-Glättung. Schreiben Sie drei Funktionen in reinem Python
(ohne groundup.text.ngram_lm, ohne NLTK). Jede Funktion erhält die Bigramm-Zählungen eines
Trainingstextes als dict {(vorheriges, wort): anzahl}. Die Sätze wurden vorne mit "<s>" und
hinten mit "</s>" aufgefüllt. `vocab` ist die Liste der Tokens, die das Modell vorhersagt:
alle Trainingswörter, "</s>" und "<unk>" (nie "<s>"); V = len(vocab).
`groundup check ngram-lm` vergleicht Ihre Funktionen auf zufälligen Korpora mit
groundup.text.ngram_lm.
"""

from __future__ import annotations


def add_k_prob(
    counts: dict[tuple[str, str], int], vocab: list[str], previous: str, word: str, k: float
) -> float:
    """p(word | previous) = (c(previous word) + k) / (c(previous) + k * V).

    c(previous) is the sum of c(previous w) over all w. A previous token that was never
    seen gives c = 0 everywhere, so the result is the uniform 1 / V.

    DE: p(wort | vorheriges) = (c(vorheriges wort) + k) / (c(vorheriges) + k * V), wobei
    c(vorheriges) die Summe von c(vorheriges w) über alle w ist. Ein nie gesehenes
    vorheriges Token ergibt die Gleichverteilung 1 / V.
    """
    raise NotImplementedError("TODO: add-k probability")


def continuation_prob(
    counts: dict[tuple[str, str], int], vocab: list[str], word: str, discount: float
) -> float:
    """Kneser-Ney's unigram level: how many different tokens come before `word`.

    N(. w) = number of distinct v with c(v w) > 0; T = sum of N(. w) over all w (the
    number of distinct bigrams); U = number of words w with N(. w) > 0. Then
        p_cont(w) = max(N(. w) - D, 0) / T  +  (D * U / T) * (1 / V)
    The second term is the mass the discount took away, spread evenly over the
    vocabulary, so that "<unk>" and never-seen words get a little.

    DE: Die Unigramm-Stufe von Kneser-Ney: wie viele verschiedene Tokens vor `word` stehen.
    N(. w) = Anzahl verschiedener v mit c(v w) > 0; T = Summe aller N(. w); U = Anzahl der
    Wörter mit N(. w) > 0. p_cont(w) = max(N(. w) - D, 0) / T + (D * U / T) * (1 / V).
    """
    raise NotImplementedError("TODO: continuation probability")


def kneser_ney_prob(
    counts: dict[tuple[str, str], int], vocab: list[str], previous: str, word: str, discount: float
) -> float:
    """Interpolated Kneser-Ney for bigrams, with discount D (0 <= D <= 1):
        p(w | prev) = max(c(prev w) - D, 0) / c(prev)  +  gamma(prev) * p_cont(w)
        gamma(prev) = D * N(prev .) / c(prev)
    N(prev .) is the number of distinct words seen after prev. If prev was never seen
    (c(prev) = 0), p(w | prev) = p_cont(w). Use continuation_prob with the same D.

    DE: Interpoliertes Kneser-Ney für Bigramme mit Discount D (0 <= D <= 1):
    p(w | prev) = max(c(prev w) - D, 0) / c(prev) + gamma(prev) * p_cont(w), mit
    gamma(prev) = D * N(prev .) / c(prev); N(prev .) ist die Anzahl verschiedener Wörter
    nach prev. Wurde prev nie gesehen, gilt p(w | prev) = p_cont(w).
    """
    raise NotImplementedError("TODO: interpolated Kneser-Ney probability")
