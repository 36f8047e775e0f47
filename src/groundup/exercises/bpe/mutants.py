"""Planted bugs for the bpe exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
def get_stats(words):
    stats = {}
    for ids, count in words:
        for pair in zip(ids, ids[1:]):
            stats[pair] = stats.get(pair, 0) + count
    return stats


def merge_pair(ids, pair, new_id):
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


def train_merges(word_counts, n_merges):
    words = [(list(w.encode("utf-8")), c) for w, c in word_counts.items()]
    merges = []
    for _ in range(n_merges):
        stats = get_stats(words)
        if not stats:
            break
        best = min(stats, key=lambda p: (-stats[p], p))
        if stats[best] < 2:
            break
        new_id = 256 + len(merges)
        merges.append(best)
        words = [(merge_pair(ids, best, new_id), c) for ids, c in words]
    return merges


def encode_word(word, merges):
    ranks = {pair: r for r, pair in enumerate(merges)}
    ids = list(word.encode("utf-8"))
    while len(ids) > 1:
        pairs = [p for p in zip(ids, ids[1:]) if p in ranks]
        if not pairs:
            break
        best = min(pairs, key=lambda p: ranks[p])
        ids = merge_pair(ids, best, 256 + ranks[best])
    return ids
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "stats_ignore_counts",
        catches="stats_counts",
        source=_plant("stats.get(pair, 0) + count", "stats.get(pair, 0) + 1"),
        note="every word counts once, however often it occurs",
    ),
    Mutant(
        "stats_set_of_pairs",
        catches="stats_overlap",
        source=_plant("for pair in zip(ids, ids[1:]):", "for pair in set(zip(ids, ids[1:])):"),
        note="a pair that occurs twice in a word counts once",
    ),
    Mutant(
        "merge_reuses_position",
        catches="merge_pair",
        source=_plant(
            "            out.append(new_id)\n            i += 2",
            "            out.append(new_id)\n            i += 1",
        ),
        note="after a merge the right half is copied again",
    ),
    Mutant(
        "merge_drops_last",
        catches="merge_pair",
        source=_plant("    while i < len(ids):", "    while i < len(ids) - 1:"),
        note="the last id is lost when it is not part of a merge",
    ),
    Mutant(
        "train_no_min_frequency",
        catches="training_ties",
        source=_plant("        if stats[best] < 2:\n            break\n", ""),
        note="keeps merging pairs that occur once, memorising the training words",
    ),
    Mutant(
        "train_ties_by_first_seen",
        catches="training_ties",
        source=_plant(
            "best = min(stats, key=lambda p: (-stats[p], p))", "best = max(stats, key=stats.get)"
        ),
        note="ties go to the pair counted first, so the result depends on word order",
    ),
    Mutant(
        "train_wrong_new_id",
        catches="training",
        source=_plant("new_id = 256 + len(merges)", "new_id = 255 + len(merges)"),
        note="the first merge reuses byte 255's id",
    ),
    Mutant(
        "encode_id_is_rank",
        catches="encoding",
        source=_plant(
            "ids = merge_pair(ids, best, 256 + ranks[best])",
            "ids = merge_pair(ids, best, ranks[best])",
        ),
        note="merged tokens get the rank as id, colliding with the bytes",
    ),
    Mutant(
        "encode_left_to_right",
        catches="encoding_by_rank",
        source=_plant("best = min(pairs, key=lambda p: ranks[p])", "best = pairs[0]"),
        note="merges the leftmost mergeable pair instead of the lowest rank",
    ),
    Mutant(
        "encode_highest_rank",
        catches="encoding",
        source=_plant(
            "best = min(pairs, key=lambda p: ranks[p])", "best = max(pairs, key=lambda p: ranks[p])"
        ),
        note="the most recent merge first",
    ),
]
