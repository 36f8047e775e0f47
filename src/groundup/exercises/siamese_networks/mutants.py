"""Planted bugs for the `siamese_networks` exercise, each a full learner file that one check
must catch.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """
import torch


def contrastive_loss(x1, x2, same, margin=1.0):
    d = torch.sqrt(((x1 - x2) ** 2).sum(dim=1))
    pull = same * d**2
    push = (1 - same) * torch.clamp(margin - d, min=0) ** 2
    return (0.5 * (pull + push)).mean()


def triplet_loss(anchor, positive, negative, margin=1.0):
    d_pos = torch.sqrt(((anchor - positive) ** 2).sum(dim=1))
    d_neg = torch.sqrt(((anchor - negative) ** 2).sum(dim=1))
    return torch.clamp(d_pos - d_neg + margin, min=0).mean()


def batch_hard_triplet_loss(embeddings, labels, margin=1.0):
    squared = ((embeddings[:, None, :] - embeddings[None, :, :]) ** 2).sum(dim=2)
    d = torch.sqrt(torch.clamp(squared, min=1e-12))
    same = labels[:, None] == labels[None, :]
    itself = torch.eye(len(labels), dtype=torch.bool)
    positives = same & ~itself
    negatives = ~same
    hardest_positive = d.masked_fill(~positives, float("-inf")).amax(dim=1)
    hardest_negative = d.masked_fill(~negatives, float("inf")).amin(dim=1)
    valid = positives.any(dim=1) & negatives.any(dim=1)
    loss = torch.clamp(hardest_positive - hardest_negative + margin, min=0)
    return loss[valid].mean()
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "contrastive_labels_flipped",
        catches="contrastive_same_pairs",
        source=_plant(
            "    pull = same * d**2\n    push = (1 - same) *",
            "    pull = (1 - same) * d**2\n    push = same *",
        ),
        note="Hadsell's Y = 0 for similar pairs read as same = 0: pulls different pairs together",
    ),
    Mutant(
        "contrastive_pull_not_squared",
        catches="contrastive_same_pairs",
        source=_plant("    pull = same * d**2", "    pull = same * d"),
    ),
    Mutant(
        "contrastive_hinge_not_squared",
        catches="contrastive_different_pairs",
        source=_plant("torch.clamp(margin - d, min=0) ** 2", "torch.clamp(margin - d, min=0)"),
        note="the missing square on the push term",
    ),
    Mutant(
        "contrastive_no_clamp",
        catches="contrastive_different_pairs",
        source=_plant("torch.clamp(margin - d, min=0) ** 2", "(margin - d) ** 2"),
        note="pairs beyond the margin are pulled back towards it",
    ),
    Mutant(
        "contrastive_margin_on_the_wrong_side",
        catches="contrastive_different_pairs",
        source=_plant("torch.clamp(margin - d, min=0) ** 2", "torch.clamp(d - margin, min=0) ** 2"),
        note="punishes different pairs for being far apart",
    ),
    Mutant(
        "contrastive_without_the_half",
        catches="contrastive_values",
        source=_plant("(0.5 * (pull + push)).mean()", "(pull + push).mean()"),
    ),
    Mutant(
        "contrastive_sum_instead_of_mean",
        catches="contrastive_values",
        source=_plant("(0.5 * (pull + push)).mean()", "(0.5 * (pull + push)).sum()"),
    ),
    Mutant(
        "contrastive_distance_detached",
        catches="contrastive_gradients",
        source=_plant(
            "    d = torch.sqrt(((x1 - x2) ** 2).sum(dim=1))\n",
            "    d = torch.sqrt(((x1 - x2) ** 2).sum(dim=1))\n    d = d + (d.detach() - d) * same\n",
        ),
        note="right values, but no gradient through the distance of the same pairs",
    ),
    Mutant(
        "triplet_margin_on_the_wrong_side",
        catches="triplet_values",
        source=_plant("d_pos - d_neg + margin", "d_pos - d_neg - margin"),
    ),
    Mutant(
        "triplet_squared_distances",
        catches="triplet_values",
        source=_plant(
            "    d_pos = torch.sqrt(((anchor - positive) ** 2).sum(dim=1))\n"
            "    d_neg = torch.sqrt(((anchor - negative) ** 2).sum(dim=1))",
            "    d_pos = ((anchor - positive) ** 2).sum(dim=1)\n"
            "    d_neg = ((anchor - negative) ** 2).sum(dim=1)",
        ),
        note="FaceNet's squared distances, but torch's TripletMarginLoss takes plain ones",
    ),
    Mutant(
        "triplet_no_clamp",
        catches="triplet_easy_triplets",
        source=_plant(
            "torch.clamp(d_pos - d_neg + margin, min=0).mean()", "(d_pos - d_neg + margin).mean()"
        ),
        note="easy triplets earn negative losses that cancel the hard ones",
    ),
    Mutant(
        "batch_hard_easiest_negative",
        catches="batch_hard_values",
        source=_plant(
            'd.masked_fill(~negatives, float("inf")).amin(dim=1)',
            'd.masked_fill(~negatives, float("-inf")).amax(dim=1)',
        ),
        note="the hardest negative picked as the easiest: the farthest one",
    ),
    Mutant(
        "batch_hard_easiest_positive",
        catches="batch_hard_values",
        source=_plant(
            'd.masked_fill(~positives, float("-inf")).amax(dim=1)',
            'd.masked_fill(~positives, float("inf")).amin(dim=1)',
        ),
        note="the nearest positive instead of the farthest",
    ),
    Mutant(
        "batch_hard_anchor_is_its_own_positive",
        catches="batch_hard_singletons",
        source=_plant("    positives = same & ~itself\n", "    positives = same\n"),
        note="a lone example becomes an anchor with itself as positive, at distance 0",
    ),
    Mutant(
        "batch_hard_mean_over_every_anchor",
        catches="batch_hard_singletons",
        source=_plant("    return loss[valid].mean()", "    return loss.mean()"),
        note="anchors without a positive count as zeros and dilute the mean",
    ),
    Mutant(
        "batch_hard_sqrt_at_zero",
        catches="batch_hard_gradients",
        source=_plant(
            "torch.sqrt(torch.clamp(squared, min=1e-12))",
            "torch.sqrt(squared)",
        ),
        note="right values, but 0 * inf = nan flows back from the diagonal",
    ),
]
