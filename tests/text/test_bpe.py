"""Byte-level BPE: training, encoding, special tokens, and the tokenizers/tiktoken oracles.

Oracles: a vocabulary trained here is saved as tokenizer.json and loaded by Hugging Face
`tokenizers` (and transformers' GPT2Tokenizer), and converted to a `tiktoken.Encoding`;
token ids must be equal (exact, no tolerance) on varied Unicode text.
"""

from __future__ import annotations

import string
from collections import Counter

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, pre_tokenizers

from groundup.data.corpus import load_corpus
from groundup.text.bpe import (
    ENDOFTEXT,
    BPETokenizer,
    bytes_to_unicode,
    learn_merges,
    merge,
    pair_counts,
    pretokenize,
)

SAMPLES = [
    "Hello world! It's 2024, don't   panic.\n\n  Indented line",
    "Grüße aus München: Ärger über Öl, Straße, Maß",
    "日本語のテキストと中文，还有한국어",
    "emoji 👍🏽 🇩🇪 family 👨‍👩‍👧 ✨",
    "e\u0301 n\u0303 a\u0308 combining marks, NFC ä vs NFD a\u0308",
    "def f(x: int) -> int:\n\treturn x ** 2  # square\r\n",
    "numbers 3.14159 1,000,000 2e-5 0xFF 12345678901234",
    "whitespace \t\t runs   \n\n\n   trailing   ",
    "\u00a0nbsp \u3000ideographic \u2028 line sep \x1c\x1d info sep \u0085 nel",
    "THEY'RE, they're, they'll, we've, I'M, I'm, 's 'd 'T",
    "",
]


@pytest.fixture(scope="module")
def whole_corpus() -> str:
    return load_corpus()  # built once per module (each test has its own GROUNDUP_HOME)


@pytest.fixture(scope="module")
def corpus(whole_corpus: str) -> str:
    return whole_corpus[:300_000]


@pytest.fixture(scope="module")
def tok(corpus: str) -> BPETokenizer:
    # the corpus is ASCII: add a little German, CJK and emoji so multi-byte merges exist
    extra = "Grüße aus München über Öl. 日本語 日本語 中文 中文 👍👍 👍🏽 👍🏽\n" * 20
    return BPETokenizer.train(corpus + extra, vocab_size=1200)


@pytest.fixture(scope="module")
def hf(tok: BPETokenizer, tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    return Tokenizer.from_file(str(tok.save(tmp_path_factory.mktemp("bpe"))))


@pytest.fixture(scope="module")
def tk(tok: BPETokenizer) -> tiktoken.Encoding:
    return tok.to_tiktoken()


def test_bytes_to_unicode_is_gpt2s_printable_bijection() -> None:
    mapping = bytes_to_unicode()
    assert sorted(mapping) == list(range(256))
    assert len(set(mapping.values())) == 256
    assert mapping[ord("a")] == "a" and mapping[ord("!")] == "!"
    assert mapping[ord(" ")] == "Ġ" and mapping[ord("\n")] == "Ċ"  # as in GPT-2's vocab.json
    assert all(c.isprintable() and not c.isspace() for c in mapping.values())


def test_pretokenize_splits_like_gpt2() -> None:
    assert pretokenize("Hello world, it's  me!!\n") == [
        "Hello",
        " world",
        ",",
        " it",
        "'s",
        " ",
        " me",
        "!!",
        "\n",
    ]
    assert pretokenize("x123 4.5") == ["x", "123", " 4", ".", "5"]


@pytest.mark.parametrize("text", SAMPLES)
def test_matches_tokenizers_bytelevel_pretokenizer(text: str) -> None:
    byte_char = bytes_to_unicode()
    ours = ["".join(byte_char[b] for b in piece.encode()) for piece in pretokenize(text)]
    reference = pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str(text)
    assert ours == [piece for piece, _ in reference]


def test_merge_replaces_left_to_right_without_overlap() -> None:
    assert merge([1, 1, 1, 2, 1, 1], (1, 1), 9) == [9, 1, 2, 9]
    assert merge([1, 2], (2, 1), 9) == [1, 2]


def test_pair_counts_weight_each_word_by_its_count() -> None:
    counts = pair_counts([([1, 2, 1, 2], 3), ([2, 1], 2)])
    assert counts == Counter({(1, 2): 6, (2, 1): 5})


def test_training_merges_most_frequent_pair_first_ties_to_smallest_ids() -> None:
    # "cd" x5 and "ab" x5 tie: (97, 98) < (99, 100) goes first whatever the word order
    merges = learn_merges({"cd": 5, "ab": 5, "ef": 2, "gh": 1}, n_merges=5)
    assert merges == [(97, 98), (99, 100), (101, 102)]  # (g, h) occurs once: below 2


def test_incremental_training_equals_naive_recount(corpus: str) -> None:
    counts = Counter(pretokenize(corpus[:20_000]))
    fast = learn_merges(counts, n_merges=60)
    words = [(list(w.encode()), c) for w, c in sorted(counts.items())]
    naive = []
    for i in range(60):
        stats = pair_counts(words)
        best = min(stats, key=lambda p: (-stats[p], p))  # most frequent, smallest ids
        naive.append(best)
        words = [(merge(ids, best, 256 + i), c) for ids, c in words]
    assert fast == naive  # no pair early on merges to an existing token's bytes


def test_training_is_deterministic_and_sizes_are_right(tok: BPETokenizer, corpus: str) -> None:
    again = BPETokenizer.train(corpus + "", vocab_size=300)
    assert again.merges == BPETokenizer.train(corpus, vocab_size=300).merges
    assert again.vocab_size == 300 and again.special_tokens == {ENDOFTEXT: 299}
    assert tok.vocab_size == 1200 and len(set(tok.vocab)) == len(tok.vocab)


def test_every_token_has_distinct_bytes_and_is_its_merge(tok: BPETokenizer) -> None:
    assert len(set(tok.vocab)) == len(tok.vocab)
    for rank, (a, b) in enumerate(tok.merges):
        assert a < 256 + rank and b < 256 + rank  # merges only use earlier tokens
        assert tok.vocab[256 + rank] == tok.vocab[a] + tok.vocab[b]
    assert learn_merges({"ab": 9, "a": 1}, 5) == [(97, 98)]  # nothing else occurs twice


@pytest.mark.parametrize("text", SAMPLES)
def test_matches_tokenizers_and_tiktoken_ids(
    tok: BPETokenizer, hf: Tokenizer, tk: tiktoken.Encoding, text: str
) -> None:
    ours = tok.encode(text)
    assert ours == hf.encode(text).ids == tk.encode(text)
    assert tok.decode(ours) == hf.decode(ours) == tk.decode(ours) == text


def test_matches_tokenizers_and_tiktoken_on_corpus_text(
    tok: BPETokenizer, hf: Tokenizer, tk: tiktoken.Encoding, whole_corpus: str
) -> None:
    text = whole_corpus[300_000:400_000]  # text the tokenizer was not trained on
    ours = tok.encode(text)
    assert ours == hf.encode(text).ids == tk.encode_ordinary(text)
    assert len(text) / len(ours) > 2.5  # a 1200-token vocabulary compresses English prose


def test_matches_tokenizers_and_tiktoken_on_special_tokens(
    tok: BPETokenizer, hf: Tokenizer, tk: tiktoken.Encoding
) -> None:
    text = f"first doc{ENDOFTEXT}second  doc\n{ENDOFTEXT}"
    ours = tok.encode(text, allowed_special="all")
    assert ours == hf.encode(text).ids == tk.encode(text, allowed_special="all")
    assert ours.count(tok.special_tokens[ENDOFTEXT]) == 2
    assert tok.decode(ours) == text


def test_special_tokens_are_disallowed_unless_allowed(tok: BPETokenizer) -> None:
    text = f"a{ENDOFTEXT}b"
    with pytest.raises(ValueError, match="disallowed special token"):
        tok.encode(text)
    as_text = tok.encode(text, disallowed_special=())
    assert tok.special_tokens[ENDOFTEXT] not in as_text
    assert as_text == tok.to_tiktoken().encode(text, disallowed_special=())
    assert tok.decode(as_text) == text


def test_matches_transformers_gpt2_tokenizer_on_whitespace_runs(
    tok: BPETokenizer, tmp_path
) -> None:
    """transformers' GPT2Tokenizer reads vocab.json + merges.txt and treats whitespace as we do.

    A run of spaces before a word is split into all-but-one spaces plus " word"
    (the `\\s+(?!\\S)` rule), and around `<|endoftext|>` no space is stripped.
    """
    from transformers import GPT2Tokenizer

    tok.save_vocab_merges(tmp_path)
    gpt2 = GPT2Tokenizer.from_pretrained(str(tmp_path))
    texts = ["a   world", "  x \n\n y  ", f"x {ENDOFTEXT}  y", "\t\ttab\u00a0\u3000z", *SAMPLES]
    for text in texts:
        assert gpt2.encode(text) == tok.encode(text, allowed_special="all"), text
    assert pretokenize("a   world") == ["a", "  ", " world"]


def test_save_load_round_trip(tok: BPETokenizer, tmp_path) -> None:
    loaded = BPETokenizer.load(tok.save(tmp_path))
    assert loaded.merges == tok.merges and loaded.special_tokens == tok.special_tokens
    text = SAMPLES[0] + SAMPLES[3]
    assert loaded.encode(text) == tok.encode(text)


def test_decode_of_a_cut_character_is_replaced_not_raised(tok: BPETokenizer) -> None:
    ids = tok.encode("ü")
    assert tok.decode_bytes(ids) == "ü".encode()
    assert tok.decode(list("ü".encode())[:1]) == "\ufffd"


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_round_trip_on_arbitrary_unicode(tok: BPETokenizer, text: str) -> None:
    assert tok.decode(tok.encode(text, disallowed_special=())) == text


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list(string.printable + "äöüß日本👍\u0301\u00a0")), max_size=60
    )
)
def test_matches_tokenizers_and_tiktoken_on_random_text(
    tok: BPETokenizer, hf: Tokenizer, tk: tiktoken.Encoding, text: str
) -> None:
    assert tok.encode(text) == hf.encode(text).ids == tk.encode(text)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_matches_tiktoken_on_arbitrary_unicode(
    tok: BPETokenizer, tk: tiktoken.Encoding, text: str
) -> None:
    assert tok.encode(text, disallowed_special=()) == tk.encode(text, disallowed_special=())


def test_matches_tiktoken_on_concatenated_tokens(tok: BPETokenizer, tk: tiktoken.Encoding) -> None:
    """Strings glued from 2-4 learned tokens: where a second split of a token would show.

    tiktoken merges any pair whose bytes are a token, we merge only learned pairs; the two
    disagree only if an encoding reaches a token's bytes as two other tokens.
    """
    import random

    rng = random.Random(0)
    pieces = [t.decode() for t in tok.vocab[256:] if t.isascii()]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(2, 4)))
        assert tok.encode_ordinary(text) == tk.encode_ordinary(text), text
