"""BERT's WordPiece tokenizer: basic tokenization, greedy longest-match subwords, training.

Devlin et al. 2019 (BERT) cut text in two stages, and Hugging Face's BertTokenizerFast
(the `tokenizers` library in Rust) does the same; this file reproduces it, ids and
character offsets included.

1. Normalization, character by character (each output character remembers which input
   character it came from, so every token knows its span in the original text):
   - clean: drop NUL, U+FFFD and control/format characters (Unicode categories Cc, Cf, Co,
     Cs; tab, newline and carriage return count as whitespace), map whitespace to " ";
   - CJK ideographs get a space on each side, so each becomes a word of its own;
   - with do_lower_case: NFD decomposition, drop the nonspacing marks (category Mn, so
     "é" -> "e"), then lower-case each character.
2. Pre-tokenization: split at whitespace (dropped) and around each punctuation character
   (kept as a word). Punctuation is BERT's: all ASCII symbols such as "$" or "+" and every
   Unicode category P*.
3. WordPiece, per word: from the left, take the longest vocabulary entry that is a prefix of
   the rest of the word; pieces after the first carry the prefix "##". A word that cannot
   be covered this way, or is longer than `max_input_chars_per_word`, becomes [UNK].

Then [CLS] text [SEP] (or [CLS] a [SEP] b [SEP] for a pair, with token_type_ids 0 for the
first part and 1 for the second), truncation, padding and the attention mask.

Unicode versions: the character classes come from Python's `unicodedata`. `tokenizers`
uses older Unicode tables for punctuation, control characters and nonspacing marks, so
characters that were added to Unicode since (a few hundred, e.g. U+2E43) can be classified
differently; unassigned code points are kept, as there.

Training: Hugging Face's WordPieceTrainer is a BPE trainer underneath. Words start as
characters ("h", "##u", "##g"); the most frequent adjacent pair is merged ("##u" + "##g" ->
"##ug") until the vocabulary is full; ties go to the pair of smallest ids. This is what
`WordPieceTokenizer.train` does by default (rule="frequency"). The original WordPiece
instead merges the pair with the best likelihood gain, count(ab) / (count(a) count(b)),
which prefers pairs whose parts rarely occur apart; rule="likelihood" picks that one.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from groundup.files import atomic_write_text

UNK, CLS, SEP, PAD, MASK = "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)
PREFIX = "##"  # marks a piece that continues a word

Truncation = Literal["longest_first", "only_first", "only_second"]
Padding = Literal["longest", "max_length"]

# ---------------------------------------------------------------- character classes


def is_control(char: str) -> bool:
    """Characters that clean-up drops. Tab, newline and carriage return are whitespace."""
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def is_whitespace(char: str) -> bool:
    return char in "\t\n\r" or char.isspace()


def is_punctuation(char: str) -> bool:
    """BERT's punctuation: every ASCII non-alphanumeric symbol and Unicode categories P*."""
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(char: str) -> bool:
    """The CJK Unified Ideographs blocks (Chinese characters, Japanese kanji, Korean hanja).

    Hiragana, katakana and Hangul are not in them: those are written with spaces or are
    split into subwords like any other script.
    """
    cp = ord(char)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


# ---------------------------------------------------------------- normalization


@lru_cache(maxsize=65536)
def clean_char(char: str, split_cjk: bool) -> str:
    """What one input character becomes: "" (dropped), " ", or itself (with spaces around
    it if it is a CJK ideograph)."""
    if ord(char) in (0, 0xFFFD) or is_control(char):
        return ""
    if is_whitespace(char):
        return " "
    if split_cjk and is_cjk(char):
        return f" {char} "
    return char


def decompose(chars: list[str], origins: list[int]) -> tuple[list[str], list[int]]:
    """NFD with the origin of every output character.

    Each character is decomposed on its own ("é" -> "e" + U+0301); then every run of
    combining characters is sorted by combining class (NFD's canonical order). The origins
    follow `tokenizers`: the first character of each decomposition stands for the next input
    position in turn, wherever the sorting moved it; the other characters inherit the origin
    of the character before them.
    """
    out: list[tuple[str, bool]] = []  # (character, stands for an input position)
    for char in chars:
        parts = unicodedata.normalize("NFD", char)
        out.append((parts[0], True))
        out.extend((part, False) for part in parts[1:])
    i = 0
    while i < len(out):
        if unicodedata.combining(out[i][0]) == 0:
            i += 1
            continue
        j = i
        while j < len(out) and unicodedata.combining(out[j][0]) != 0:
            j += 1
        out[i:j] = sorted(out[i:j], key=lambda part: unicodedata.combining(part[0]))
        i = j
    new_origins: list[int] = []
    consumed = 0
    for _, stands_for_input in out:
        if stands_for_input:
            consumed += 1
        new_origins.append(origins[max(consumed - 1, 0)])
    return [char for char, _ in out], new_origins


# ---------------------------------------------------------------- encodings


@dataclass
class Encoding:
    """One encoded text (or pair), the fields of a transformers BatchEncoding row."""

    input_ids: list[int]
    token_type_ids: list[int]
    attention_mask: list[int]
    offsets: list[tuple[int, int]]  # character spans into the text the token came from
    tokens: list[str]

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class Piece:
    """A token before the special tokens are added: id, string and span in the text."""

    id: int
    token: str
    start: int
    end: int


@dataclass
class WordPieceTokenizer:
    """A vocabulary (token -> id) and BERT's settings; encode, decode, save, train."""

    vocab: dict[str, int]
    do_lower_case: bool = True
    strip_accents: bool | None = None  # None: strip exactly when lower-casing, as BERT does
    tokenize_chinese_chars: bool = True
    max_input_chars_per_word: int = 100
    model_max_length: int = 512
    special_tokens: tuple[str, ...] = SPECIAL_TOKENS
    _word_cache: dict[str, list[tuple[int, int, int]]] = field(
        init=False, default_factory=dict, repr=False, compare=False
    )  # words repeat: each is split into pieces once

    def __post_init__(self) -> None:
        missing = [t for t in (UNK, CLS, SEP, PAD) if t not in self.vocab]
        if missing:
            raise ValueError(f"the vocabulary lacks the special tokens {missing}")
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        # Special tokens written in the text ("[MASK]") are matched before normalization,
        # the longest first.
        specials = sorted((t for t in self.special_tokens if t in self.vocab), key=len)[::-1]
        self._special_pattern = re.compile("|".join(map(re.escape, specials))) if specials else None
        self.unk_id, self.cls_id = self.vocab[UNK], self.vocab[CLS]
        self.sep_id, self.pad_id = self.vocab[SEP], self.vocab[PAD]

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    # ------------------------------------------------------------ loading and saving

    @classmethod
    def from_vocab_file(cls, path: str | Path, **settings: object) -> WordPieceTokenizer:
        """vocab.txt: one token per line, the line number is the id."""
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls({token: i for i, token in enumerate(lines)}, **settings)  # type: ignore[arg-type]

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> WordPieceTokenizer:
        """A Hugging Face BERT tokenizer folder: vocab.txt and tokenizer_config.json, or
        else a tokenizer.json with a WordPiece model and a BertNormalizer."""
        folder = Path(folder)
        config_path = folder / "tokenizer_config.json"
        config = json.loads(config_path.read_text("utf-8")) if config_path.is_file() else {}
        max_length = min(int(config.get("model_max_length", 512)), 1_000_000)  # may be 1e30
        if (folder / "vocab.txt").is_file():
            return cls.from_vocab_file(
                folder / "vocab.txt",
                do_lower_case=config.get("do_lower_case", True),
                strip_accents=config.get("strip_accents"),
                tokenize_chinese_chars=config.get("tokenize_chinese_chars", True),
                model_max_length=max_length,
            )
        if (folder / "tokenizer.json").is_file():
            spec = json.loads((folder / "tokenizer.json").read_text("utf-8"))
            model, normalizer = spec["model"], spec.get("normalizer") or {}
            if model.get("type") != "WordPiece" or normalizer.get("type") != "BertNormalizer":
                raise ValueError(f"{folder}/tokenizer.json is not a BERT WordPiece tokenizer")
            return cls(
                model["vocab"],
                do_lower_case=normalizer.get("lowercase", True),
                strip_accents=normalizer.get("strip_accents"),
                tokenize_chinese_chars=normalizer.get("handle_chinese_chars", True),
                max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
                model_max_length=max_length,
            )
        raise FileNotFoundError(f"{folder} has neither vocab.txt nor tokenizer.json")

    def save_pretrained(self, folder: str | Path) -> Path:
        """vocab.txt + tokenizer_config.json, readable by transformers' BertTokenizer(Fast)."""
        folder = Path(folder)
        by_id = sorted(self.vocab.items(), key=lambda item: item[1])
        if [i for _, i in by_id] != list(range(len(by_id))):
            raise ValueError("vocab.txt needs the ids 0..n-1 without gaps")
        atomic_write_text(folder / "vocab.txt", "".join(f"{t}\n" for t, _ in by_id))
        config = {
            "tokenizer_class": "BertTokenizer",
            "do_lower_case": self.do_lower_case,
            "strip_accents": self.strip_accents,
            "tokenize_chinese_chars": self.tokenize_chinese_chars,
            "model_max_length": self.model_max_length,
            "unk_token": UNK,
            "cls_token": CLS,
            "sep_token": SEP,
            "pad_token": PAD,
            **({"mask_token": MASK} if MASK in self.vocab else {}),
        }
        atomic_write_text(folder / "tokenizer_config.json", json.dumps(config, indent=2))
        return folder

    # ------------------------------------------------------------ basic tokenization

    def normalize(self, text: str) -> tuple[str, list[int]]:
        """The normalized text and, for each of its characters, the index of the input
        character it came from."""
        strip = self.do_lower_case if self.strip_accents is None else self.strip_accents
        chars: list[str] = []
        origins: list[int] = []
        for i, char in enumerate(text):
            out = clean_char(char, self.tokenize_chinese_chars)
            chars.extend(out)
            origins.extend([i] * len(out))
        if strip:  # NFD, then drop the nonspacing marks: "e" + U+0301 -> "e"
            chars, origins = decompose(chars, origins)
            kept = [k for k, c in enumerate(chars) if unicodedata.category(c) != "Mn"]
            chars, origins = [chars[k] for k in kept], [origins[k] for k in kept]
        if self.do_lower_case:  # per character, like Rust's char::to_lowercase: no final sigma
            lowered = [c.lower() for c in chars]
            origins = [o for c, o in zip(lowered, origins, strict=True) for _ in c]
            chars = lowered
        return "".join(chars), origins

    def pre_tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """Words of the normalized text as (word, start, end) in normalized positions."""
        words: list[tuple[str, int, int]] = []
        start = None
        for i, char in enumerate(text):
            if is_whitespace(char) or is_punctuation(char):
                if start is not None:
                    words.append((text[start:i], start, i))
                    start = None
                if not is_whitespace(char):
                    words.append((char, i, i + 1))
            elif start is None:
                start = i
        if start is not None:
            words.append((text[start:], start, len(text)))
        return words

    # ------------------------------------------------------------ WordPiece

    def wordpiece(self, word: str) -> list[tuple[int, int, int]]:
        """Greedy longest-match-first: (id, start, end) pieces of the word, or one [UNK]."""
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        if len(word) > self.max_input_chars_per_word:
            return [(self.unk_id, 0, len(word))]
        pieces: list[tuple[int, int, int]] = []
        start = 0
        while start < len(word):
            for end in range(len(word), start, -1):  # the longest candidate first
                candidate = word[start:end] if start == 0 else PREFIX + word[start:end]
                token_id = self.vocab.get(candidate)
                if token_id is not None:
                    pieces.append((token_id, start, end))
                    start = end
                    break
            else:  # no piece fits here: the whole word is unknown, not just this part
                pieces = [(self.unk_id, 0, len(word))]
                break
        if len(self._word_cache) < 100_000:
            self._word_cache[word] = pieces
        return pieces

    def _pieces_of_chunk(self, chunk: str, offset: int) -> list[Piece]:
        normalized, origins = self.normalize(chunk)
        pieces = []
        for word, word_start, _ in self.pre_tokenize(normalized):
            for token_id, start, end in self.wordpiece(word):
                span = origins[word_start + start : word_start + end]
                first, last = min(span), max(span)
                pieces.append(
                    Piece(token_id, self.id_to_token[token_id], offset + first, offset + last + 1)
                )
        return pieces

    def pieces(self, text: str) -> list[Piece]:
        """The tokens of one text, without [CLS]/[SEP], with character spans into `text`."""
        if self._special_pattern is None:
            return self._pieces_of_chunk(text, 0)
        pieces: list[Piece] = []
        position = 0
        for match in self._special_pattern.finditer(text):
            pieces += self._pieces_of_chunk(text[position : match.start()], position)
            token = match.group()
            pieces.append(Piece(self.vocab[token], token, match.start(), match.end()))
            position = match.end()
        return pieces + self._pieces_of_chunk(text[position:], position)

    def tokenize(self, text: str) -> list[str]:
        return [piece.token for piece in self.pieces(text)]

    # ------------------------------------------------------------ encoding

    def encode(
        self,
        text: str,
        pair: str | None = None,
        *,
        add_special_tokens: bool = True,
        truncation: bool | Truncation = False,
        max_length: int | None = None,
        padding: bool | Padding = False,
    ) -> Encoding:
        """One text or a pair: ids, token type ids, attention mask, offsets.

        truncation=True means "longest_first": for a pair, cut the longer part one token at
        a time. max_length counts the special tokens; without it truncation uses
        model_max_length. padding="max_length" pads to max_length.
        """
        return self.encode_batch(
            [text if pair is None else (text, pair)],
            add_special_tokens=add_special_tokens,
            truncation=truncation,
            max_length=max_length,
            padding=padding,
        )[0]

    def encode_batch(
        self,
        texts: Sequence[str] | Sequence[tuple[str, str]],
        *,
        add_special_tokens: bool = True,
        truncation: bool | Truncation = False,
        max_length: int | None = None,
        padding: bool | Padding = False,
    ) -> list[Encoding]:
        """Encode texts (or pairs); padding="longest" (or True) pads to the longest one."""
        strategy: Truncation | None = "longest_first" if truncation is True else truncation or None
        if strategy is not None and max_length is None:
            max_length = self.model_max_length
        encodings = []
        for item in texts:
            first, second = (item, None) if isinstance(item, str) else item
            a = self.pieces(first)
            b = None if second is None else self.pieces(second)
            if strategy is not None and max_length is not None:
                n_special = (3 if b is not None else 2) if add_special_tokens else 0
                a, b = truncate(a, b, max_length - n_special, strategy)
            encodings.append(self._assemble(a, b, add_special_tokens))
        if padding:
            longest = max((len(e) for e in encodings), default=0)
            target = longest if padding in (True, "longest") else max_length
            if target is None:
                raise ValueError('padding="max_length" needs max_length')
            for encoding in encodings:
                self._pad(encoding, target)
        return encodings

    def _assemble(self, a: list[Piece], b: list[Piece] | None, add_special: bool) -> Encoding:
        cls = [Piece(self.cls_id, CLS, 0, 0)] if add_special else []
        sep = [Piece(self.sep_id, SEP, 0, 0)] if add_special else []
        first = cls + a + sep
        second = [] if b is None else b + sep
        pieces = first + second
        return Encoding(
            input_ids=[p.id for p in pieces],
            token_type_ids=[0] * len(first) + [1] * len(second),
            attention_mask=[1] * len(pieces),
            offsets=[(p.start, p.end) for p in pieces],
            tokens=[p.token for p in pieces],
        )

    def _pad(self, encoding: Encoding, length: int) -> None:
        """Pad on the right; padding gets type 0, mask 0 and the empty span (0, 0)."""
        missing = length - len(encoding)
        if missing > 0:
            encoding.input_ids += [self.pad_id] * missing
            encoding.token_type_ids += [0] * missing
            encoding.attention_mask += [0] * missing
            encoding.offsets += [(0, 0)] * missing
            encoding.tokens += [PAD] * missing

    # ------------------------------------------------------------ decoding

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """Tokens joined by spaces, "##" pieces glued to the previous one, and no space
        before . , ? ! (the clean-up BertTokenizerFast's decoder does)."""
        specials = {self.vocab[t] for t in self.special_tokens if t in self.vocab}
        tokens = [self.id_to_token[i] for i in ids if not (skip_special_tokens and i in specials)]
        text = ""
        for i, token in enumerate(tokens):
            if i > 0:
                token = token[len(PREFIX) :] if token.startswith(PREFIX) else " " + token
            text += token
        for mark in ".?!,":
            text = text.replace(" " + mark, mark)
        return text

    # ------------------------------------------------------------ training

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        *,
        min_frequency: int = 0,
        do_lower_case: bool = True,
        special_tokens: Sequence[str] = SPECIAL_TOKENS,
        limit_alphabet: int | None = None,
        rule: Literal["frequency", "likelihood"] = "frequency",
    ) -> WordPieceTokenizer:
        """Learn a vocabulary of at most vocab_size tokens from texts (see the module doc)."""
        basic = cls(
            {t: i for i, t in enumerate(special_tokens)},
            do_lower_case=do_lower_case,
            special_tokens=tuple(special_tokens),
        )
        word_counts: Counter[str] = Counter()
        for text in texts:
            normalized, _ = basic.normalize(text)
            word_counts.update(word for word, _, _ in basic.pre_tokenize(normalized))
        vocab = learn_vocab(
            word_counts, vocab_size, special_tokens, min_frequency, limit_alphabet, rule
        )
        return cls(vocab, do_lower_case=do_lower_case, special_tokens=tuple(special_tokens))


def truncate(
    a: list[Piece], b: list[Piece] | None, budget: int, strategy: Truncation
) -> tuple[list[Piece], list[Piece] | None]:
    """Cut the pieces to at most `budget` tokens in total (special tokens already counted).

    longest_first splits the budget as transformers' fast tokenizers do: the shorter part
    is kept whole if it fits in half, otherwise both get half (the longer one the odd
    token).
    """
    if budget < 0:
        raise ValueError("max_length is shorter than the special tokens")
    if b is None:
        if strategy == "only_second":
            raise ValueError('truncation="only_second" needs a pair of texts')
        return a[:budget], None
    if len(a) + len(b) <= budget:
        return a, b
    if strategy == "only_first":
        if len(b) >= budget:  # transformers refuses to cut the first text away entirely
            raise ValueError("the second text alone fills max_length")
        return a[: budget - len(b)], b
    if strategy == "only_second":
        if len(a) >= budget:
            raise ValueError("the first text alone fills max_length")
        return a, b[: budget - len(a)]
    short, long = sorted((len(a), len(b)))
    keep_short = short if short <= budget else budget
    keep_long = max(keep_short, budget - keep_short)
    if keep_short + keep_long > budget:  # neither fits in half: split evenly
        keep_short, keep_long = budget // 2, budget // 2 + budget % 2
    if len(a) > len(b):
        return a[:keep_long], b[:keep_short]
    return a[:keep_short], b[:keep_long]


# ---------------------------------------------------------------- training


def learn_vocab(
    word_counts: Counter[str],
    vocab_size: int,
    special_tokens: Sequence[str] = SPECIAL_TOKENS,
    min_frequency: int = 0,
    limit_alphabet: int | None = None,
    rule: Literal["frequency", "likelihood"] = "frequency",
) -> dict[str, int]:
    """Special tokens, the alphabet, "##" forms of the characters, then merged pairs.

    Ids: special tokens first, then the characters in code point order, then the
    "##" characters in order of first appearance, then each merge's new token.
    """
    vocab: dict[str, int] = {}

    def add(token: str) -> None:
        if token not in vocab:
            vocab[token] = len(vocab)

    for token in special_tokens:
        add(token)
    char_counts: Counter[str] = Counter()
    for word, count in word_counts.items():
        for char in word:
            char_counts[char] += count
    alphabet = set(char_counts)
    if limit_alphabet is not None and len(alphabet) > limit_alphabet:
        alphabet = {c for c, _ in char_counts.most_common(limit_alphabet)}
    for char in sorted(alphabet):
        add(char)

    # Each distinct word as a list of symbols; characters outside the alphabet are dropped.
    words: list[list[str]] = []
    counts: list[int] = []
    for word, count in word_counts.items():
        symbols = [c if i == 0 else PREFIX + c for i, c in enumerate(word) if c in alphabet]
        for symbol in symbols:
            add(symbol)
        words.append(symbols)
        counts.append(count)

    pair_counts: Counter[tuple[str, str]] = Counter()
    where: defaultdict[tuple[str, str], set[int]] = defaultdict(set)  # pair -> word indices
    for w, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:], strict=False):
            pair_counts[pair] += counts[w]
            where[pair].add(w)

    def score(pair: tuple[str, str]) -> float:
        if rule == "frequency":
            return pair_counts[pair]
        return pair_counts[pair] / (symbol_counts[pair[0]] * symbol_counts[pair[1]])

    while len(vocab) < vocab_size:
        candidates = [p for p, n in pair_counts.items() if n > 0 and n >= min_frequency]
        if not candidates:
            break
        if rule == "likelihood":
            symbol_counts: Counter[str] = Counter()
            for symbols, count in zip(words, counts, strict=True):
                for symbol in symbols:
                    symbol_counts[symbol] += count
        # Best score; ties go to the pair of smallest ids (tokenizers' rule).
        best = max(candidates, key=lambda p: (score(p), -vocab[p[0]], -vocab[p[1]]))
        left, right = best
        merged = left + right.removeprefix(PREFIX)
        add(merged)
        for w in list(where[best]):
            symbols = words[w]
            for pair in zip(symbols, symbols[1:], strict=False):  # forget this word's pairs
                pair_counts[pair] -= counts[w]
            words[w] = symbols = merge_pair(symbols, left, right, merged)
            for pair in zip(symbols, symbols[1:], strict=False):
                pair_counts[pair] += counts[w]
                where[pair].add(w)
        del where[best]
    return vocab


def merge_pair(symbols: list[str], left: str, right: str, merged: str) -> list[str]:
    """Replace each occurrence of left, right (scanning left to right) by merged."""
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == left and symbols[i + 1] == right:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out
