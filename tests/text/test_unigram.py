"""text/unigram.py against Hugging Face tokenizers' Unigram model (the oracle): with the same
pieces and scores, both must give exactly the same tokens and ids, on random vocabularies
(with unknown characters, ties and multi-byte characters) and on a vocabulary trained on the
corpus. Viterbi and the E-step are also checked against brute-force enumeration of every
segmentation, and training against the properties it promises."""

from __future__ import annotations

import math
import random
from collections import Counter
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.data.corpus import load_corpus
from groundup.text.unigram import (
    SPACE,
    UNK,
    UnigramTokenizer,
    expected_counts,
    normalize,
)

tokenizers = pytest.importorskip("tokenizers")


@cache
def trained() -> tuple[str, UnigramTokenizer]:
    """(training text, a 300-piece vocabulary trained on it), shared by the tests below."""
    text = load_corpus()[:20_000]
    return text, UnigramTokenizer.train(text.splitlines(), 300, seed_size=2000)


def reference(vocab: list[tuple[str, float]]):
    return tokenizers.Tokenizer(tokenizers.models.Unigram(vocab, 0, False))


def random_vocab(
    rng: random.Random, alphabet: str, size: int, ties: bool
) -> list[tuple[str, float]]:
    pieces = {rng.choice(alphabet) for _ in range(len(alphabet) // 2)}  # some characters unknown
    while len(pieces) < size:
        pieces.add("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 5))))
    score = (lambda: -2.0) if ties else (lambda: round(rng.uniform(-12, -0.5), 3))
    return [(UNK, 0.0), *((p, score()) for p in sorted(pieces))]


@given(st.integers(0, 10_000), st.booleans())
@settings(max_examples=60, deadline=None)
def test_matches_tokenizers_unigram_on_random_vocabularies(seed, ties) -> None:
    rng = random.Random(seed)
    alphabet = "abcd" + SPACE + "éß"  # two-byte characters too
    vocab = random_vocab(rng, alphabet, rng.randint(5, 40), ties)
    ours, theirs = UnigramTokenizer(vocab), reference(vocab)
    for _ in range(10):
        text = "".join(rng.choice(alphabet + "xz") for _ in range(rng.randint(1, 30)))
        expected = theirs.encode(text)
        assert ours.tokenize(text) == expected.tokens, text
        assert ours.encode(text) == expected.ids, text


def test_matches_tokenizers_unigram_with_a_trained_vocabulary() -> None:
    corpus = load_corpus()
    _, tokenizer = trained()
    theirs = reference(tokenizer.vocab)
    lines = [line for line in corpus[200_000:230_000].splitlines() if line.strip()][:150]
    lines += ["Grüße aus Köln: 42 % schneller!", "naïve café — 東京", "x" * 50]
    for line in lines:
        text = normalize(line)
        assert tokenizer.tokenize(text) == theirs.encode(text).tokens, line
        assert tokenizer.encode(text) == theirs.encode(text).ids, line


def all_segmentations(text: str, pieces: set[str]):
    if not text:
        yield []
        return
    for end in range(1, len(text) + 1):
        if text[:end] in pieces:
            for rest in all_segmentations(text[end:], pieces):
                yield [text[:end], *rest]


def test_viterbi_finds_the_most_probable_segmentation() -> None:
    rng = random.Random(3)
    for _ in range(20):
        vocab = [(c, rng.uniform(-6, -1)) for c in "abc"]
        vocab += [("".join(rng.choice("abc") for _ in range(rng.randint(2, 4))), 0.0)
                  for _ in range(12)]  # fmt: skip
        vocab = list({p: rng.uniform(-8, -1) for p, _ in vocab}.items())
        scores = dict(vocab)
        tokenizer = UnigramTokenizer([(UNK, 0.0), *vocab])
        text = "".join(rng.choice("abc") for _ in range(rng.randint(1, 10)))
        best = max(sum(scores[p] for p in seg) for seg in all_segmentations(text, set(scores)))
        assert math.isclose(sum(scores[p] for p in tokenizer.tokenize(text)), best)


def test_expected_counts_equal_the_posterior_over_all_segmentations() -> None:
    scores = {"a": -1.2, "b": -1.5, "ab": -1.9, "ba": -2.5, "aba": -3.0, "bab": -2.2}
    words = Counter({"abab": 3, "bab": 2, "ba": 1})
    want = dict.fromkeys(scores, 0.0)
    for word, count in words.items():
        segmentations = list(all_segmentations(word, set(scores)))
        weights = [math.exp(sum(scores[p] for p in seg)) for seg in segmentations]
        for seg, weight in zip(segmentations, weights, strict=True):
            for piece in seg:
                want[piece] += count * weight / sum(weights)
    got = expected_counts(words, scores)
    for piece in scores:
        assert math.isclose(got[piece], want[piece], rel_tol=1e-9, abs_tol=1e-12), piece


def test_training_gives_the_size_keeps_every_character_and_round_trips() -> None:
    text, tokenizer = trained()
    assert len(tokenizer) == 300 and tokenizer.vocab[0][0] == UNK
    pieces = {piece for piece, _ in tokenizer.vocab}
    assert {c for word in text.split() for c in SPACE + word} <= pieces
    assert "▁the" in pieces  # the most frequent word is one piece
    probabilities = sum(math.exp(score) for _, score in tokenizer.vocab[1:])
    assert math.isclose(probabilities, 1.0, rel_tol=1e-6)
    for line in text.splitlines()[:200]:
        ids = tokenizer.encode(normalize(line))
        assert tokenizer.unk_id not in ids
        assert tokenizer.decode(ids) == " ".join(line.split())
    # Longer pieces explain the text with fewer tokens than characters.
    sample = normalize(" ".join(text.split()[:500]))
    assert len(tokenizer.encode(sample)) < 0.5 * len(sample)


def test_fuses_neighbouring_unknown_characters() -> None:
    tokenizer = UnigramTokenizer([(UNK, 0.0), ("a", -1.0), ("b", -2.0)])
    assert tokenizer.tokenize("axyzb") == ["a", "xyz", "b"]
    assert tokenizer.encode("axyzb") == [1, 0, 2]
    assert UnigramTokenizer(tokenizer.vocab, fuse_unk=False).tokenize("xy") == ["x", "y"]
