"""fastText n-grams and hashing against the algorithm of fastText's dictionary.cc, on cases
worked out by hand; out-of-vocabulary words get vectors."""

import numpy as np

from groundup.text.fasttext import FastText, fnv1a, subword_ngrams


def test_ngrams_of_where() -> None:
    # the example of Bojanowski et al. (n = 3), then all of 3..6 in fastText's order
    assert subword_ngrams("where", 3, 3) == ["<wh", "whe", "her", "ere", "re>"]
    assert subword_ngrams("where") == [
        "<wh", "<whe", "<wher", "<where",
        "whe", "wher", "where", "where>",
        "her", "here", "here>",
        "ere", "ere>",
        "re>",
    ]  # fmt: skip
    assert subword_ngrams("a") == ["<a>"]  # "<a>" has 3 characters
    assert subword_ngrams("ab", 3, 6) == ["<ab", "<ab>", "ab>"]


def test_ngrams_count_characters_not_bytes() -> None:
    assert subword_ngrams("öl", 3, 3) == ["<öl", "öl>"]


def test_fnv1a_known_values() -> None:
    # FNV-1a 32-bit reference values (the FNV authors' test vectors, ASCII input)
    assert fnv1a("") == 0x811C9DC5
    assert fnv1a("a") == 0xE40C292C
    assert fnv1a("foobar") == 0xBF9CF968


def test_fnv1a_sign_extends_bytes_like_fasttext() -> None:
    # "é" is bytes C3 A9; fastText XORs int8 values, i.e. 0xFFFFFFC3 and 0xFFFFFFA9
    h = 0x811C9DC5
    for byte in (0xFFFFFFC3, 0xFFFFFFA9):
        h = ((h ^ byte) * 16777619) % 2**32
    assert fnv1a("é") == h
    plain = 0x811C9DC5
    for byte in (0xC3, 0xA9):
        plain = ((plain ^ byte) * 16777619) % 2**32
    assert fnv1a("é") != plain  # the textbook FNV-1a differs here


def toy_sentences(n: int = 300) -> list[list[str]]:
    rng = np.random.default_rng(0)
    groups = [
        ["reading", "reader", "readable", "reads"],
        ["socket", "sockets", "socketpair", "sock"],
    ]
    return [list(rng.choice(groups[i % 2], size=6)) for i in range(n)]


def test_ngram_rows_and_oov_vectors() -> None:
    model = FastText(dim=12, window=2, min_count=1, sample=0, epochs=4, lr=0.2,
                     buckets=5000, batch_size=32).fit(toy_sentences())  # fmt: skip
    v = len(model.vocab)
    rows = model.ngram_rows("reads")
    assert rows == [v + fnv1a(g) % 5000 for g in subword_ngrams("reads")]
    # a known word's vector is the mean of its own row and its n-gram rows
    known = model.w_in[[model.vocab.stoi["reads"], *rows]].mean(axis=0)
    np.testing.assert_allclose(model.vector("reads"), known, rtol=1e-6)
    np.testing.assert_allclose(model.vectors[model.words.index("reads")], known, rtol=1e-5)
    # an unseen word still gets a vector, near the words that share its n-grams
    oov = model.vector("readers")
    assert np.linalg.norm(oov) > 0

    mean = model.vectors.mean(axis=0)  # compare without the direction all vectors share

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        a, b = a - mean, b - mean
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    assert cos(oov, model.vector("reader")) > cos(oov, model.vector("socket")) + 0.3
    assert np.mean(model.losses[-10:]) < model.losses[0]
