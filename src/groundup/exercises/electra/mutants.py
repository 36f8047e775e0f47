"""Planted bugs for the electra exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """import torch
import torch.nn.functional as F


def corrupt(masked_ids, labels, attention_mask, generator_logits, generator=None):
    chosen = labels != -100
    probabilities = generator_logits.detach()[chosen].softmax(dim=-1)
    corrupted = masked_ids.clone()
    if probabilities.shape[0] > 0:
        drawn = torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)
        corrupted[chosen] = drawn
    original = torch.where(chosen, labels, masked_ids)
    is_replaced = ((corrupted != original) & attention_mask.bool()).float()
    return corrupted, is_replaced


def discriminator_loss(logits, is_replaced, attention_mask):
    real = attention_mask.bool()
    return F.binary_cross_entropy_with_logits(logits[real], is_replaced[real].float())


def electra_loss(generator_logits, labels, discriminator_logits, is_replaced, attention_mask,
                 discriminator_weight=50.0):
    vocab = generator_logits.shape[-1]
    mlm = F.cross_entropy(generator_logits.reshape(-1, vocab), labels.reshape(-1),
                          ignore_index=-100)
    detection = discriminator_loss(discriminator_logits, is_replaced, attention_mask)
    return mlm + discriminator_weight * detection
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "samples_everywhere",
        catches="corrupt_keeps_the_rest",
        source=_plant(
            "    chosen = labels != -100\n", "    chosen = attention_mask.bool()\n"
        ).replace(
            "torch.where(chosen, labels, masked_ids)",
            "torch.where(labels != -100, labels, masked_ids)",
        ),
        note="every real token is resampled, not just the masked ones",
    ),
    Mutant(
        "argmax_instead_of_sampling",
        catches="corrupt_samples",
        source=_plant(
            "torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)",
            "probabilities.argmax(dim=-1)",
        ),
        note="always the generator's favourite: few, predictable fakes",
    ),
    Mutant(
        "generator_ignored",
        catches="corrupt_exact",
        source=_plant(
            "torch.multinomial(probabilities, 1, generator=generator)",
            "torch.multinomial(probabilities, 1)",
        ),
        note="draws from the global random state: right distribution, not reproducible",
    ),
    Mutant(
        "label_was_masked",
        catches="corrupt_labels",
        source=_plant(
            "((corrupted != original) & attention_mask.bool()).float()",
            "(chosen & attention_mask.bool()).float()",
        ),
        note="a sampled token that equals the original is called replaced",
    ),
    Mutant(
        "compared_with_the_mask",
        catches="corrupt_labels",
        source=_plant(
            "torch.where(chosen, labels, masked_ids)",
            "masked_ids",
        ),
        note="compares with the [MASK]-ed input instead of the original text",
    ),
    Mutant(
        "gradient_through_the_sample",
        catches="corrupt_no_gradient",
        source=_plant(
            "    probabilities = generator_logits.detach()[chosen].softmax(dim=-1)\n",
            "    probabilities = generator_logits[chosen].softmax(dim=-1)\n",
        ).replace(
            "    return corrupted, is_replaced\n",
            "    # straight-through: the hard label's value, the soft label's gradient\n"
            "    soft = torch.zeros_like(is_replaced)\n"
            "    soft[chosen] = 1 - probabilities.gather(1, labels[chosen, None]).squeeze(1)\n"
            "    is_replaced = is_replaced + soft - soft.detach()\n"
            "    return corrupted, is_replaced\n",
        ),
        note="the detection loss would train the generator like a GAN",
    ),
    Mutant(
        "detection_summed",
        catches="discriminator_loss_values",
        source=_plant("is_replaced[real].float())", "is_replaced[real].float(), reduction='sum')"),
        note="sums over tokens: the loss grows with the batch",
    ),
    Mutant(
        "padding_counted",
        catches="discriminator_loss_padding",
        source=_plant(
            "F.binary_cross_entropy_with_logits(logits[real], is_replaced[real].float())",
            "F.binary_cross_entropy_with_logits(logits, is_replaced.float())",
        ),
        note="padding positions are scored as if they were text",
    ),
    Mutant(
        "mean_over_all_positions",
        catches="discriminator_loss_padding",
        source=_plant(
            "    return F.binary_cross_entropy_with_logits(logits[real], is_replaced[real].float())\n",
            "    each = F.binary_cross_entropy_with_logits(logits, is_replaced.float(), "
            "reduction='none')\n"
            "    return (each * real).sum() / real.numel()\n",
        ),
        note="padding is zeroed but still counted in the denominator",
    ),
    Mutant(
        "weight_missing",
        catches="electra_loss_values",
        source=_plant("mlm + discriminator_weight * detection", "mlm + detection"),
        note="lambda = 1: the detection loss is drowned by the MLM loss",
    ),
    Mutant(
        "mlm_over_all_tokens",
        catches="electra_loss_values",
        source=_plant(
            "    mlm = F.cross_entropy(generator_logits.reshape(-1, vocab), labels.reshape(-1),\n"
            "                          ignore_index=-100)\n",
            "    mlm = F.cross_entropy(generator_logits.reshape(-1, vocab), labels.reshape(-1),\n"
            "                          ignore_index=-100, reduction='sum') / labels.numel()\n",
        ),
        note="the MLM loss divided by every position instead of the masked ones",
    ),
]
