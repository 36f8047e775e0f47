"""Byte-level byte-pair encoding (BPE), trained from scratch, as in GPT-2.

A text becomes UTF-8 bytes; the 256 byte values are the first 256 tokens, so any input can
be encoded (no unknown token: the bytes are the fallback). Training repeatedly takes the
most frequent adjacent pair of tokens and merges it into a new token; the order of the
merges is their rank. Encoding applies the learned merges, lowest rank first.

Pipeline, as in GPT-2:

1. Special tokens such as `<|endoftext|>` are cut out first; they are never split.
2. The rest is pre-tokenized by `GPT2_PATTERN` (contractions, letters, digits, other
   symbols, whitespace), so merges never cross a word boundary: " dog" and " dog." share
   the token for " dog".
3. Each piece is encoded on its own (and cached: text repeats its words).

Training counts pair frequencies once and then updates them incrementally: merging a pair
touches only the words that contain it, so only their pairs are recounted.
Determinism: the most frequent pair wins; ties go to the smallest pair of token ids.

Every token has distinct bytes: a pair whose merged bytes are already a token is skipped
(a tokenizer.json vocabulary and tiktoken's ranks both map bytes to one id).
`tiktoken` merges any adjacent pair whose concatenated *bytes* are a token, lowest id
first, while merge-table BPE (ours, Hugging Face `tokenizers`) merges only the learned
*pairs*. They can differ only where a token also splits into two other tokens that an
encoding reaches; the tests check the three agree on varied text and random Unicode.

`save` writes a `tokenizer.json` that `tokenizers.Tokenizer.from_file` reads,
`save_vocab_merges` GPT-2's vocab.json + merges.txt for transformers' GPT2Tokenizer, and
`to_tiktoken` builds a `tiktoken.Encoding`; the tests check they all give the same ids.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import regex

from groundup.files import atomic_write_text

# GPT-2's pre-tokenizer (the same as in tiktoken's "gpt2" and tokenizers' ByteLevel).
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
ENDOFTEXT = "<|endoftext|>"

Pair = tuple[int, int]


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte, used to write tokens as JSON strings.

    Printable Latin-1 bytes stand for themselves; the other 68 (control bytes, space, ...)
    are mapped to chr(256), chr(257), ... in byte order.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def pretokenize(text: str, pattern: str = GPT2_PATTERN) -> list[str]:
    """The pieces BPE works inside; merges never cross their boundaries."""
    return regex.findall(pattern, text)


@dataclass
class BPETokenizer:
    """Merges (rank order) and special tokens; ids 0-255 are bytes, then one id per merge."""

    merges: list[Pair] = field(default_factory=list)
    special_tokens: dict[str, int] = field(default_factory=dict)
    pattern: str = GPT2_PATTERN

    def __post_init__(self) -> None:
        self.ranks: dict[Pair, int] = {pair: i for i, pair in enumerate(self.merges)}
        self.vocab: list[bytes] = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self.special_by_id = {i: s for s, i in self.special_tokens.items()}
        self._cache: dict[str, list[int]] = {}
        self._compiled = regex.compile(self.pattern)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab) + len(self.special_tokens)

    # --- training -----------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        special_tokens: Iterable[str] = (ENDOFTEXT,),
        min_frequency: int = 2,
        pattern: str = GPT2_PATTERN,
        on_merge: Callable[[int, Pair, int], None] | None = None,
    ) -> BPETokenizer:
        """Learn vocab_size - 256 - len(special_tokens) merges (fewer if pairs run out)."""
        specials = list(special_tokens)
        n_merges = vocab_size - 256 - len(specials)
        if n_merges < 0:
            raise ValueError(f"vocab_size must be at least {256 + len(specials)}")
        chunks = split_special(text, specials) if specials else [text]
        counts = Counter(
            piece
            for chunk in chunks
            if chunk not in specials
            for piece in pretokenize(chunk, pattern)
        )
        merges = learn_merges(counts, n_merges, min_frequency, on_merge)
        base = 256 + len(merges)
        return cls(merges, {s: base + i for i, s in enumerate(specials)}, pattern)

    # --- encoding and decoding ----------------------------------------------------------

    def encode_piece(self, piece: str) -> list[int]:
        """BPE on one pre-token: merge the adjacent pair of lowest rank until none is left."""
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        ids = list(piece.encode("utf-8"))
        while len(ids) > 1:
            pair = min(
                zip(ids, ids[1:], strict=False), key=lambda p: self.ranks.get(p, len(self.ranks))
            )
            if pair not in self.ranks:
                break
            ids = merge(ids, pair, 256 + self.ranks[pair])
        self._cache[piece] = ids
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode treating special-token text as ordinary text."""
        out: list[int] = []
        for piece in self._compiled.findall(text):
            out.extend(self.encode_piece(piece))
        return out

    def encode(
        self,
        text: str,
        allowed_special: Literal["all"] | Collection[str] = (),
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Token ids of text; the special-token rules are tiktoken's.

        Allowed special tokens become their id. A disallowed one in the text raises
        ValueError (so user text cannot inject `<|endoftext|>` by accident); pass
        disallowed_special=() to encode it as ordinary text instead.
        """
        allowed = set(self.special_tokens) if allowed_special == "all" else set(allowed_special)
        disallowed = (
            set(self.special_tokens) - allowed
            if disallowed_special == "all"
            else set(disallowed_special)
        )
        for token in disallowed:
            if token in text:
                raise ValueError(f"text contains the disallowed special token {token!r}")
        if not allowed:
            return self.encode_ordinary(text)
        out: list[int] = []
        for chunk in split_special(text, allowed):
            if chunk in allowed:
                out.append(self.special_tokens[chunk])
            else:
                out.extend(self.encode_ordinary(chunk))
        return out

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        parts = []
        for i in ids:
            special = self.special_by_id.get(i)
            parts.append(special.encode("utf-8") if special is not None else self.vocab[i])
        return b"".join(parts)

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """Text of ids; a cut through a multi-byte character decodes as U+FFFD by default."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    # --- saving, loading and conversion -------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The Hugging Face `tokenizer.json` layout (BPE model, ByteLevel pre-tokenizer)."""
        byte_char = bytes_to_unicode()

        def show(token: bytes) -> str:
            return "".join(byte_char[b] for b in token)

        byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {
                    "id": i,
                    "content": s,
                    "single_word": False,
                    "lstrip": False,
                    "rstrip": False,
                    "normalized": False,
                    "special": True,
                }
                for s, i in self.special_tokens.items()
            ],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", **byte_level},
            "post_processor": {"type": "ByteLevel", **byte_level, "trim_offsets": False},
            "decoder": {"type": "ByteLevel", **byte_level},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": {show(token): i for i, token in enumerate(self.vocab)},
                "merges": [[show(self.vocab[a]), show(self.vocab[b])] for a, b in self.merges],
            },
        }

    def save(self, path: str | Path) -> Path:
        """Write tokenizer.json (path may be a folder or the file itself)."""
        path = Path(path)
        if path.suffix != ".json":
            path = path / "tokenizer.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(self.to_json(), ensure_ascii=False, indent=1))
        return path

    def save_vocab_merges(self, folder: str | Path) -> tuple[Path, Path]:
        """GPT-2's original files: vocab.json (token -> id) and merges.txt (one pair a line)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        model = self.to_json()["model"]
        vocab = {**model["vocab"], **self.special_tokens}
        lines = ["#version: 0.2", *(f"{a} {b}" for a, b in model["merges"])]
        atomic_write_text(folder / "vocab.json", json.dumps(vocab, ensure_ascii=False))
        atomic_write_text(folder / "merges.txt", "\n".join(lines) + "\n")
        return folder / "vocab.json", folder / "merges.txt"

    @classmethod
    def load(cls, path: str | Path) -> BPETokenizer:
        """Read a tokenizer.json written by `save` (or any byte-level BPE of this shape)."""
        path = Path(path)
        if path.is_dir():
            path = path / "tokenizer.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        char_byte = {c: b for b, c in bytes_to_unicode().items()}
        vocab = data["model"]["vocab"]
        for token, i in vocab.items():
            if i < 256 and bytes(char_byte[c] for c in token) != bytes([i]):
                raise ValueError("ids 0-255 must be the single bytes in byte order")
        merges = []
        for merge_entry in data["model"]["merges"]:
            a, b = merge_entry.split(" ") if isinstance(merge_entry, str) else merge_entry
            merges.append((vocab[a], vocab[b]))
        specials = {t["content"]: t["id"] for t in data["added_tokens"]}
        tokenizer = cls(merges, specials)
        for token, i in vocab.items():
            if tokenizer.vocab[i] != bytes(char_byte[c] for c in token):
                raise ValueError(f"token {i} is not the merge of rank {i - 256}")
        return tokenizer

    def to_tiktoken(self, name: str = "groundup-bpe") -> Any:
        """A `tiktoken.Encoding` with the same pattern, ranks and special tokens."""
        import tiktoken

        ranks = {token: i for i, token in enumerate(self.vocab)}
        return tiktoken.Encoding(
            name=name,
            pat_str=self.pattern,
            mergeable_ranks=ranks,
            special_tokens=dict(self.special_tokens),
        )


def merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace each occurrence of pair in ids (left to right, no overlaps) by new_id."""
    out = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def pair_counts(words: Iterable[tuple[list[int], int]]) -> Counter[Pair]:
    """How often each adjacent pair occurs, each word weighted by its count."""
    counts: Counter[Pair] = Counter()
    for ids, count in words:
        for pair in zip(ids, ids[1:], strict=False):
            counts[pair] += count
    return counts


def learn_merges(
    word_counts: dict[str, int],
    n_merges: int,
    min_frequency: int = 2,
    on_merge: Callable[[int, Pair, int], None] | None = None,
) -> list[Pair]:
    """The training loop: merges in rank order, learned from pre-token counts.

    A max-heap of (count, pair) entries goes stale as counts change; a popped entry is used
    only if its count is still current (lazy deletion), else it is dropped.
    on_merge(rank, pair, count) is called after each merge (progress, statistics).
    """
    words = [list(w.encode("utf-8")) for w in sorted(word_counts)]
    weights = [word_counts[w] for w in sorted(word_counts)]
    counts = pair_counts(zip(words, weights, strict=True))
    where: dict[Pair, set[int]] = defaultdict(set)  # pair -> indices of words containing it
    for index, ids in enumerate(words):
        for pair in zip(ids, ids[1:], strict=False):
            where[pair].add(index)
    heap = [(-c, pair) for pair, c in counts.items()]
    heapq.heapify(heap)
    vocab = [bytes([b]) for b in range(256)]
    token_id = {token: i for i, token in enumerate(vocab)}
    merges: list[Pair] = []
    skipped: set[Pair] = set()
    while len(merges) < n_merges and heap:
        negative, pair = heapq.heappop(heap)
        if counts.get(pair, 0) != -negative:
            continue  # stale entry
        if -negative < min_frequency:
            break
        new = vocab[pair[0]] + vocab[pair[1]]
        if new in token_id:
            skipped.add(pair)  # same bytes as an existing token: never mergeable again
            continue
        new_id = len(vocab)
        merges.append(pair)
        if on_merge is not None:
            on_merge(len(merges) - 1, pair, -negative)
        vocab.append(new)
        token_id[new] = new_id
        changed: set[Pair] = set()
        for index in where.pop(pair):
            ids, weight = words[index], weights[index]
            for old in zip(ids, ids[1:], strict=False):
                counts[old] -= weight
                changed.add(old)
            ids = words[index] = merge(ids, pair, new_id)
            for fresh in zip(ids, ids[1:], strict=False):
                counts[fresh] += weight
                where[fresh].add(index)
                changed.add(fresh)
        counts.pop(pair, None)
        for p in changed:
            if counts.get(p, 0) > 0 and p not in skipped:
                heapq.heappush(heap, (-counts[p], p))
            else:
                counts.pop(p, None)
    return merges


def split_special(text: str, specials: Collection[str]) -> list[str]:
    """text cut into ordinary chunks and special tokens (longest special first)."""
    if not specials:
        return [text]
    alternatives = "|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True))
    return [chunk for chunk in regex.split(f"({alternatives})", text) if chunk]
