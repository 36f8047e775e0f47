"""Exercise bpe: the core of byte-pair encoding, training and encoding.

Write four functions in plain Python (no groundup.text.bpe, no tokenizers, no tiktoken).
Tokens are ints: 0-255 are the byte values, and the merge of rank r (the r-th merge
learned, counting from 0) creates the token 256 + r. A "word" is one pre-token such as
" the", given as the list of its token ids with its count in the training text. Run
`groundup check bpe` to compare your functions with groundup.text.bpe.

DE: Übung bpe: der Kern von Byte-Pair-Encoding, Training und Kodierung. Schreiben Sie vier
Funktionen in reinem Python (ohne groundup.text.bpe, tokenizers oder tiktoken). Tokens sind
ints: 0-255 sind die Bytewerte, und der Merge mit Rang r (der r-te gelernte Merge, ab 0
gezählt) erzeugt das Token 256 + r. Ein "Wort" ist ein Prä-Token wie " the", gegeben als
Liste seiner Token-IDs mit seiner Häufigkeit im Trainingstext. `groundup check bpe`
vergleicht Ihre Funktionen mit groundup.text.bpe.
"""

from __future__ import annotations


def get_stats(words: list[tuple[list[int], int]]) -> dict[tuple[int, int], int]:
    """How often each adjacent pair occurs: {(a, b): count}.

    Each word is (ids, count); every adjacent pair in ids adds count. Overlapping pairs
    all count: [7, 7, 7] holds the pair (7, 7) twice.

    DE: Wie oft jedes benachbarte Paar vorkommt. Jedes Wort ist (ids, anzahl); jedes
    benachbarte Paar in ids zählt anzahl-mal. Überlappende Paare zählen alle: [7, 7, 7]
    enthält das Paar (7, 7) zweimal.
    """
    raise NotImplementedError("TODO: count adjacent pairs")


def merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """ids with every occurrence of pair replaced by new_id, scanning left to right.

    A merged position is not reused: merge_pair([7, 7, 7], (7, 7), 9) == [9, 7].
    Return a new list; leave ids unchanged.

    DE: ids, in dem jedes Vorkommen von pair von links nach rechts durch new_id ersetzt
    ist. Eine verschmolzene Position wird nicht wiederverwendet:
    merge_pair([7, 7, 7], (7, 7), 9) == [9, 7]. Geben Sie eine neue Liste zurück.
    """
    raise NotImplementedError("TODO: merge one pair")


def train_merges(word_counts: dict[str, int], n_merges: int) -> list[tuple[int, int]]:
    """The BPE training loop: the merges in the order they are learned.

    Start from the UTF-8 bytes of each word. Repeat n_merges times: count the pairs over
    all words (weighted by their counts), take the most frequent pair (ties: the smallest
    pair, as tuples compare), stop early if it occurs fewer than 2 times, else record it
    and merge it in every word into the token 256 + (number of merges so far).

    DE: Die Trainingsschleife von BPE: die Merges in der Reihenfolge, in der sie gelernt
    werden. Beginnen Sie mit den UTF-8-Bytes jedes Wortes. n_merges-mal: Paare über alle
    Wörter zählen (gewichtet mit ihrer Häufigkeit), das häufigste Paar nehmen (bei
    Gleichstand das kleinste Tupel), vorzeitig aufhören, wenn es seltener als 2-mal
    vorkommt, sonst es notieren und in jedem Wort zum Token 256 + (bisherige Merges)
    verschmelzen.
    """
    raise NotImplementedError("TODO: the training loop")


def encode_word(word: str, merges: list[tuple[int, int]]) -> list[int]:
    """Token ids of one pre-token: start from its UTF-8 bytes and repeatedly merge the
    adjacent pair with the lowest rank (its index in merges; ties: the leftmost) until no
    adjacent pair is in merges.

    DE: Token-IDs eines Prä-Tokens: Beginnen Sie mit seinen UTF-8-Bytes und verschmelzen
    Sie wiederholt das benachbarte Paar mit dem niedrigsten Rang (sein Index in merges;
    bei Gleichstand das linke), bis kein benachbartes Paar mehr in merges steht.
    """
    raise NotImplementedError("TODO: encode by merge rank")
