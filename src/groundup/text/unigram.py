"""The unigram language model tokenizer of SentencePiece (Kudo 2018), the tokenizer of T5.

BPE and WordPiece build a vocabulary bottom-up by merging. The unigram model goes top-down:
every piece x of the vocabulary has a probability p(x), pieces occur independently, and the
probability of a segmentation x_1 ... x_k of a text is p(x_1) ... p(x_k). Tokenizing means
taking the most probable segmentation (Viterbi, below). Training starts from many candidate
pieces and alternates:

1. EM: with the current p, the expected number of times each piece is used, summed over
   all segmentations of the corpus weighted by their probability (forward-backward over
   the lattice of pieces); the new p is proportional to these counts.
2. Pruning: drop the share of pieces whose removal lowers the corpus likelihood least,
   keeping every single character so that any text of the training alphabet stays coverable.

until the vocabulary has the wanted size. SentencePiece writes spaces as "▁" and puts one
in front of the text, so pieces can start words ("▁the") and decoding is exact.

Segmentation follows Hugging Face tokenizers' Unigram model step by step (the same
left-to-right lattice, the same tie-breaking, unknown characters scored min_score - 10 and
neighbouring unknowns fused into one token), so with the same pieces and scores both give
the same tokens.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

SPACE = "▁"  # U+2581, SentencePiece's visible space
UNK = "<unk>"
UNK_PENALTY = 10.0  # an unknown character costs this much more than the rarest piece


def normalize(text: str) -> str:
    """SentencePiece's escaping: spaces become ▁, and one ▁ goes in front (a dummy prefix)."""
    return SPACE + " ".join(text.split()).replace(" ", SPACE)


def logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    top = max(a, b)
    return top + math.log(math.exp(a - top) + math.exp(b - top))


class UnigramTokenizer:
    """Pieces with log-probabilities (scores); id = position in the list."""

    def __init__(self, vocab: list[tuple[str, float]], unk_id: int = 0, fuse_unk: bool = True):
        self.vocab = list(vocab)
        self.unk_id, self.fuse_unk = unk_id, fuse_unk
        self.piece_to_id = {piece: i for i, (piece, _) in enumerate(self.vocab)}
        self.max_length = max(len(piece) for piece, _ in self.vocab)
        self.min_score = min(score for _, score in self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def segment(self, text: str) -> list[tuple[str, int]]:
        """The most probable segmentation as (piece text, id). Unknown characters get the
        unk id; with fuse_unk a run of them is one token."""
        n = len(text)
        unk_score = self.min_score - UNK_PENALTY
        # best[j] = (score of the best path over text[:j], where its last piece starts, id)
        best: list[tuple[float, int, int] | None] = [None] * (n + 1)
        best[0] = (0.0, -1, -1)
        for start in range(n):
            reached = best[start]
            assert reached is not None  # every position is reachable through single chars/unk
            has_single_char = False
            # Pieces starting here, shortest first: the order of a trie's prefix search.
            for end in range(start + 1, min(n, start + self.max_length) + 1):
                piece_id = self.piece_to_id.get(text[start:end])
                if piece_id is None:
                    continue
                candidate = reached[0] + self.vocab[piece_id][1]
                if best[end] is None or candidate > best[end][0]:  # ties: the first one stays
                    best[end] = (candidate, start, piece_id)
                has_single_char |= end == start + 1
            if not has_single_char:
                candidate = reached[0] + unk_score
                if best[start + 1] is None or candidate > best[start + 1][0]:
                    best[start + 1] = (candidate, start, self.unk_id)
        pieces: list[tuple[str, int]] = []
        end = n
        while end > 0:
            _, start, piece_id = best[end]  # type: ignore[misc]
            piece = text[start:end]
            if self.fuse_unk and piece_id == self.unk_id and pieces and pieces[-1][1] == piece_id:
                piece = piece + pieces.pop()[0]
            pieces.append((piece, piece_id))
            end = start
        return pieces[::-1]

    def tokenize(self, text: str) -> list[str]:
        return [piece for piece, _ in self.segment(text)]

    def encode(self, text: str) -> list[int]:
        return [piece_id for _, piece_id in self.segment(text)]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.vocab[i][0] for i in ids).replace(SPACE, " ").strip()

    # ------------------------------------------------------------ training

    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        vocab_size: int,
        max_piece_length: int = 8,
        seed_size: int = 5000,
        shrinking_factor: float = 0.75,
        em_iterations: int = 2,
    ) -> UnigramTokenizer:
        """Learn pieces and scores from texts (words are split at whitespace, each gets ▁).

        Seed: every character, and the seed_size most frequent substrings of up to
        max_piece_length characters, scored by frequency x length (a longer piece that is
        as frequent explains more text). Then EM and pruning to shrinking_factor of the
        size per round, until vocab_size pieces remain (plus <unk> at id 0).
        """
        words = Counter(SPACE + word for text in texts for word in text.split())
        characters = {c for word in words for c in word}
        if vocab_size < len(characters) + 1:
            raise ValueError(f"vocab_size must be at least {len(characters) + 1}")
        substrings: Counter[str] = Counter()
        for word, count in words.items():
            for i in range(len(word)):
                for j in range(i + 2, min(len(word), i + max_piece_length) + 1):
                    substrings[word[i:j]] += count
        seeds = sorted(substrings, key=lambda s: (-substrings[s] * len(s), s))[:seed_size]
        scores = {c: float(sum(word.count(c) * n for word, n in words.items())) for c in characters}
        scores.update({s: float(substrings[s] * len(s)) for s in seeds})
        scores = normalized(scores)

        while True:
            for _ in range(em_iterations):
                scores = normalized(expected_counts(words, scores))
            if len(scores) <= vocab_size - 1:
                break
            keep = max(vocab_size - 1, int(len(scores) * shrinking_factor))
            scores = prune(words, scores, characters, keep)
        ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return cls([(UNK, 0.0), *ordered], unk_id=0)


def normalized(counts: dict[str, float]) -> dict[str, float]:
    """Counts -> log-probabilities; pieces with (almost) no count drop out."""
    kept = {piece: count for piece, count in counts.items() if count > 1e-6 or len(piece) == 1}
    total = sum(kept.values())
    return {piece: math.log(max(count, 1e-12) / total) for piece, count in kept.items()}


def expected_counts(words: Counter[str], scores: dict[str, float]) -> dict[str, float]:
    """E-step: expected uses of each piece over all segmentations of every word
    (forward-backward on the lattice), weighted by the word's count."""
    longest = max(len(piece) for piece in scores)
    counts = dict.fromkeys(scores, 0.0)
    for word, count in words.items():
        n = len(word)
        edges = [(i, j, word[i:j]) for i in range(n)
                 for j in range(i + 1, min(n, i + longest) + 1) if word[i:j] in scores]  # fmt: skip
        forward = [0.0] + [-math.inf] * n
        for i, j, piece in edges:  # sorted by start: forward[i] is final when used
            forward[j] = logsumexp(forward[j], forward[i] + scores[piece])
        backward = [-math.inf] * n + [0.0]
        for i, j, piece in reversed(edges):
            backward[i] = logsumexp(backward[i], scores[piece] + backward[j])
        for i, j, piece in edges:
            counts[piece] += count * math.exp(forward[i] + scores[piece] + backward[j] - forward[n])
    return counts


def best_split_score(piece: str, scores: dict[str, float]) -> float:
    """Log-probability of the best segmentation of piece into other, shorter pieces."""
    best = [0.0] + [-math.inf] * len(piece)
    for j in range(1, len(piece) + 1):
        for i in range(j):
            part = piece[i:j]
            if part != piece and part in scores:
                best[j] = max(best[j], best[i] + scores[part])
    return best[-1]


def prune(
    words: Counter[str], scores: dict[str, float], characters: set[str], keep: int
) -> dict[str, float]:
    """Keep the `keep` pieces whose loss is largest. The loss of a piece: how much the
    likelihood of the corpus falls if the piece goes and its uses are segmented into the
    other pieces instead (SentencePiece's approximation: each use is replaced by the best
    segmentation of the piece itself without it). Single characters always stay."""
    tokenizer = UnigramTokenizer([(UNK, 0.0), *scores.items()])
    uses: Counter[str] = Counter()
    for word, count in words.items():
        for piece in tokenizer.tokenize(word):
            uses[piece] += count
    loss = {}
    for piece, score in scores.items():
        if piece not in characters:
            loss[piece] = uses[piece] * (score - best_split_score(piece, scores))
    ranked = sorted(loss, key=lambda p: (-loss[p], p))
    survivors = set(characters) | set(ranked[: max(0, keep - len(characters))])
    return {piece: score for piece, score in scores.items() if piece in survivors}
