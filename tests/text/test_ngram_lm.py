"""N-gram language models: distributions sum to one, NLTK's nltk.lm agrees where the
definitions agree, hand-computed perplexities, and Kneser-Ney's "San Francisco" effect.

How NLTK's KneserNeyInterpolated defines things (nltk/lm/models.py, smoothing.py):
- highest order: max(c(h w) - D, 0) / c(h) + D N1+(h .) / c(h) * p_lower, the same as ours;
- lower orders: continuation counts N1+(. h w) / N1+(. h .), with gamma from the number of
  distinct raw followers of h; both agree with ours when every token has a full padded
  context, as ours always does;
- unigrams: N1+(. w) / N1+(. .) with no discount and no uniform base below it, so a word
  never seen as a continuation ("<UNK>", any unseen word) gets probability 0.
  We discount the unigrams too and interpolate with 1 / V, so every word in the vocabulary
  gets mass. With our unigram discount set to 0 the two agree to rounding error
  (test_matches_nltk_kneser_ney...), and test_differs_from_nltk_kneser_ney_on_unseen_words
  shows the difference.
NLTK's logscore, entropy and perplexity use base 2; ours are in nats.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.data.text import CharTokenizer, train_val_split
from groundup.text.ngram_lm import (
    BOS,
    EOS,
    MLE,
    UNK,
    AddK,
    KneserNey,
    NgramModel,
    char_split,
    estimate_discounts,
)

nltk_lm = pytest.importorskip("nltk.lm")

SUM_TOLERANCE = 1e-9  # sums of at most a few dozen float64 terms

corpora = st.lists(
    st.lists(st.sampled_from("abcde"), min_size=0, max_size=8), min_size=1, max_size=6
).filter(lambda c: sum(map(len, c)) > 0)


def all_contexts(model: NgramModel) -> list[tuple[str, ...]]:
    """Every context seen at the highest order, its suffixes, and a few never seen."""
    seen = list(model.counts[-1])
    unseen = [("e", "zz", "a")[-(model.order - 1) :] if model.order > 1 else (), ("q",) * 3]
    return seen + [h[1:] for h in seen] + unseen + [()]


def random_model(kind: str, order: int) -> NgramModel:
    if kind == "mle":
        return MLE(order)
    if kind == "add-k":
        return AddK(order, k=0.3)
    if kind == "laplace":
        return AddK(order, k=1.0)
    return KneserNey(order, modified=kind == "kn-modified")


@settings(max_examples=40, deadline=None)
@given(
    corpus=corpora,
    order=st.integers(1, 4),
    kind=st.sampled_from(["mle", "add-k", "laplace", "kn", "kn-modified"]),
    boundaries=st.booleans(),
)
def test_every_distribution_sums_to_one(corpus, order, kind, boundaries) -> None:
    model = random_model(kind, order)
    model.boundaries = boundaries
    model.fit(corpus)
    for context in all_contexts(model):
        p = model.distribution(context)
        assert abs(p.sum() - 1.0) <= SUM_TOLERANCE, (context, p.sum())
        assert (p >= 0).all()
        singles = [model.prob(context, w) for w in model.vocab]
        np.testing.assert_allclose(singles, p, rtol=0, atol=1e-12)
        if kind != "mle":  # smoothed: every token, "<unk>" included, gets some mass
            assert (p > 0).all()


def nltk_ngrams(model: NgramModel, sentence: list[str]) -> list[tuple[str, ...]]:
    """The n-grams of orders 1..n that end at each predicted token, padded as ours are."""
    padded = model.pad(sentence)
    return [tuple(padded[i - k + 1 : i + 1])
            for i in range(model.order - 1, len(padded)) for k in range(1, model.order + 1)]  # fmt: skip


def fit_nltk(reference, model: NgramModel, corpus: list[list[str]]):
    # "<s>" is left out of NLTK's vocabulary, so NLTK reads it as "<UNK>" in training and
    # scoring alike; then len(vocab) = ours (kept words + "</s>" + the unknown label)
    reference.fit([nltk_ngrams(model, s) for s in corpus],
                  vocabulary_text=[t for s in corpus for t in s] + [EOS])  # fmt: skip
    assert len(reference.vocab) == model.vocab_size
    return reference


def nltk_contexts(model: NgramModel, seed: int = 0) -> list[tuple[str, ...]]:
    """Seen contexts and random (mostly unseen) ones of known tokens. Contexts with "<unk>"
    are left out: NLTK would read both "<s>" and "<unk>" as its "<UNK>"."""
    rng = random.Random(seed)
    words = [w for w in model.vocab if w not in (EOS, UNK)]
    made_up = [tuple(rng.choices(words, k=model.order - 1)) for _ in range(30)]
    found = all_contexts(model) + made_up
    return [h for h in found if UNK not in model.context_of(h)]


def nltk_score(reference, model: NgramModel, context, token: str) -> float:
    h = model.context_of(context)[-(model.order - 1) :] if model.order > 1 else ()
    return reference.score("<UNK>" if token == UNK else token, h or None)


def random_corpus(seed: int, sentences: int = 12, alphabet: str = "abcdef") -> list[list[str]]:
    rng = random.Random(seed)
    return [rng.choices(alphabet, k=rng.randint(1, 9)) for _ in range(sentences)]


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("k", [1.0, 0.05])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_nltk_laplace_and_lidstone(order: int, k: float, seed: int) -> None:
    corpus = random_corpus(seed)
    model = AddK(order, k=k).fit(corpus)
    reference = nltk_lm.Laplace(order) if k == 1.0 else nltk_lm.Lidstone(k, order)
    fit_nltk(reference, model, corpus)
    for context in nltk_contexts(model):
        ours = [model.prob(context, w) for w in model.vocab]
        theirs = [nltk_score(reference, model, context, w) for w in model.vocab]
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("discount", [0.1, 0.75])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_nltk_kneser_ney_with_undiscounted_unigrams(
    order: int, discount: float, seed: int
) -> None:
    corpus = random_corpus(seed, sentences=10, alphabet="abcde")
    # NLTK's unigram level is N1+(. w) / N1+(. .) undiscounted: our unigram discount 0
    model = KneserNey(order, discount=[0.0] + [discount] * (order - 1)).fit(corpus)
    reference = fit_nltk(nltk_lm.KneserNeyInterpolated(order, discount=discount), model, corpus)
    for context in nltk_contexts(model):
        ours = [model.prob(context, w) for w in model.vocab]
        theirs = [nltk_score(reference, model, context, w) for w in model.vocab]
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)


def test_matches_nltk_mle_on_seen_contexts() -> None:
    corpus = random_corpus(3)
    model = MLE(3).fit(corpus)
    reference = fit_nltk(nltk_lm.MLE(3), model, corpus)
    for context in model.counts[-1]:
        ours = [model.prob(context, w) for w in model.vocab]
        theirs = [nltk_score(reference, model, context, w) for w in model.vocab]
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def test_differs_from_nltk_kneser_ney_on_unseen_words() -> None:
    """NLTK gives an unseen word probability 0 (infinite perplexity on any text with one);
    ours gives it D-weighted uniform mass and still sums to one over the vocabulary."""
    corpus = random_corpus(4, alphabet="abcd")
    ours = KneserNey(2, discount=0.1).fit(corpus)
    reference = fit_nltk(nltk_lm.KneserNeyInterpolated(2, discount=0.1), ours, corpus)
    assert reference.score("never-seen", ("a",)) == 0.0
    assert reference.score("<UNK>", ("a",)) == 0.0
    assert ours.prob(("a",), "never-seen") == ours.prob(("a",), UNK) > 0
    assert math.isfinite(ours.log_prob(("a",), "never-seen"))
    assert abs(ours.distribution(("a",)).sum() - 1) < SUM_TOLERANCE
    # NLTK's logscore is in bits, ours in nats
    assert reference.logscore("a", ("b",)) == pytest.approx(math.log2(reference.score("a", ("b",))))
    assert ours.log_prob(("b",), "a") == pytest.approx(math.log(ours.prob(("b",), "a")))


def test_perplexity_by_hand_add_one() -> None:
    """Bigram, Laplace, train [a b], [b]; V = {a, b, </s>, <unk>} = 4.
    p(a | <s>) = (1+1)/(2+4), p(b | a) = (1+1)/(1+4), p(</s> | b) = (2+1)/(2+4)."""
    model = AddK(2, k=1).fit([["a", "b"], ["b"]])
    assert model.vocab == ["a", "b", EOS, UNK]
    probs = [1 / 3, 2 / 5, 1 / 2]
    ce = -sum(map(math.log, probs)) / 3
    assert model.cross_entropy([["a", "b"]]) == pytest.approx(ce, rel=1e-12)
    assert model.perplexity([["a", "b"]]) == pytest.approx(15 ** (1 / 3), rel=1e-12)


def test_perplexity_by_hand_kneser_ney() -> None:
    """Bigram KN, D = 0.5 at both orders, same corpus. Continuation counts N1+(. w):
    a 1, b 2, </s> 1 of 4 bigram types, so p1(a) = 0.5/4 + (0.5*3/4)/4 = 7/32,
    p1(b) = 15/32, p1(</s>) = 7/32, p1(<unk>) = 3/32. Then
    p(a | <s>) = 0.5/2 + 0.5 * 7/32, p(b | a) = 0.5/1 + 0.5 * 15/32,
    p(</s> | b) = 1.5/2 + (0.5*1/2) * 7/32."""
    model = KneserNey(2, discount=0.5).fit([["a", "b"], ["b"]])
    unigram = {"a": 7 / 32, "b": 15 / 32, EOS: 7 / 32, UNK: 3 / 32}
    for w, p in unigram.items():
        assert model.prob((BOS, "zz"), w) == pytest.approx(p, rel=1e-12)  # unseen context "zz"
    probs = [23 / 64, 47 / 64, 103 / 128]
    assert model.perplexity([["a", "b"]]) == pytest.approx(math.prod(probs) ** (-1 / 3), 1e-12)


def test_cross_entropy_is_the_mean_negative_log_prob_in_nats() -> None:
    corpus = random_corpus(5)
    model = KneserNey(3).fit(corpus[:8])
    test = corpus[8:]
    terms = []
    for s in test:
        padded = [BOS, BOS, *s, EOS]
        terms += [-math.log(model.prob(padded[:i], padded[i])) for i in range(2, len(padded))]
    assert model.cross_entropy(test) == pytest.approx(sum(terms) / len(terms), rel=1e-12)
    assert model.perplexity(test) == pytest.approx(math.exp(sum(terms) / len(terms)), rel=1e-12)


def test_san_francisco_continuation_probability() -> None:
    """'francisco' is more frequent than 'glasses' but follows only 'san'; 'glasses' follows
    many words. A context where neither was seen ('my') then prefers 'glasses' under KN,
    while the unigram counts would prefer 'francisco'."""
    corpus = [["san", "francisco"]] * 6 + [
        [w, "glasses"] for w in ("reading", "my", "sun", "new", "his", "old")[:5]
    ] + [["my", "house"]]  # fmt: skip
    model = KneserNey(2, discount=0.75).fit(corpus)
    mle = MLE(1).fit(corpus)
    assert mle.prob((), "francisco") > mle.prob((), "glasses")
    assert model.continuation_prob("francisco") == pytest.approx(1 / 16)  # 1 of 16 bigram types
    assert model.continuation_prob("glasses") == pytest.approx(5 / 16)
    assert model.prob(("my",), "glasses") > 1.5 * model.prob(("my",), "francisco")
    assert model.prob(("san",), "francisco") > 0.8


def test_modified_discounts_follow_chen_goodman() -> None:
    # counts of counts n1..n4 = 6, 3, 2, 1
    table = {("x",): {f"a{i}": 1 for i in range(6)} | {f"b{i}": 2 for i in range(3)},
             ("y",): {"c0": 3, "c1": 3, "d": 4}}  # fmt: skip
    y = 6 / (6 + 2 * 3)
    expected = (1 - 2 * y * 3 / 6, 2 - 3 * y * 2 / 3, 3 - 4 * y * 1 / 2)
    assert estimate_discounts(table, modified=True) == pytest.approx(expected)
    assert estimate_discounts(table, modified=False) == pytest.approx((y, y, y))
    model = KneserNey(3, modified=True).fit(random_corpus(6, sentences=40))
    for d1, d2, d3 in model.discounts:
        assert 0 <= d1 <= 1 and 0 <= d2 <= 2 and 0 <= d3 <= 3


def test_unknown_tokens_and_min_count() -> None:
    model = AddK(2, k=1, min_count=2).fit([["a", "a", "b"], ["a", "c"]])
    assert model.vocab == ["a", EOS, UNK]  # b and c were seen once: <unk>
    assert model.counts[-1][("a",)] == {"a": 1, UNK: 2}
    assert model.prob(("a",), "zebra") == model.prob(("a",), UNK) == (2 + 1) / (3 + 3)
    assert model.prob(("zebra",), "a") == model.prob((UNK,), "a")


def test_character_mode_uses_the_split_of_train_val_split() -> None:
    text = "hello world, this is a small text.\n" * 7
    train, val = char_split(text)
    ids = torch.tensor(CharTokenizer.from_text(text).encode(text))
    train_ids, val_ids = train_val_split(ids)
    assert len(train) == len(train_ids) and len(val) == len(val_ids)
    model = KneserNey(3, boundaries=False).fit([train])
    assert EOS not in model.vocab and set(model.vocab) == set(train) | {UNK}
    # the stream is one sequence: len(val) predictions, the first after two "<s>"
    first = -model.log_prob("", val[0])
    assert model.cross_entropy([val]) * len(val) == pytest.approx(
        first + sum(-model.log_prob(val[max(0, i - 2) : i], val[i]) for i in range(1, len(val)))
    )


def test_sampling_respects_temperature_top_k_and_stops_at_end() -> None:
    corpus = random_corpus(7, sentences=30)
    model = KneserNey(2).fit(corpus)
    rng = random.Random(0)
    samples = [model.sample(20, rng=rng) for _ in range(50)]
    assert all(UNK not in s and EOS not in s for s in samples)
    assert any(len(s) < 20 for s in samples)  # some reached "</s>"
    # top_k = 1 is greedy: always the most likely token after "a"
    p = model.distribution(["a"])
    p[model.index[UNK]] = 0
    greedy = model.vocab[int(np.argmax(p))]
    for seed in range(5):
        got = model.sample(1, context=["a"], top_k=1, rng=random.Random(seed))
        assert got == ([] if greedy == EOS else [greedy])
    # a low temperature picks the mode far more often than T = 1 does
    mode = model.vocab[int(np.argmax(model.distribution([])))]

    def share(t: float) -> float:
        picks = [model.sample(1, temperature=t, rng=random.Random(s)) for s in range(300)]
        return sum(x == [mode] for x in picks) / 300

    assert share(0.2) > share(1.0) + 0.2
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, temperature=0)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="order"):
        KneserNey(0)
    with pytest.raises(ValueError, match="discounts"):
        KneserNey(2, discount=1.5)
    with pytest.raises(ValueError, match="modified"):
        KneserNey(2, discount=0.5, modified=True)
    with pytest.raises(ValueError, match="k must"):
        AddK(2, k=0)
