"""Planted bugs for the bert exercise, each a full learner file one check catches.

They start from SOLUTION, a correct answer written the way a learner would, and change one
thing each.
"""

from __future__ import annotations

from groundup.exercises.checking import Mutant

SOLUTION = """import torch
import torch.nn.functional as F


def wordpiece(word, vocab, max_input_chars_per_word=100):
    if len(word) > max_input_chars_per_word:
        return ["[UNK]"]
    pieces = []
    start = 0
    while start < len(word):
        for end in range(len(word), start, -1):
            candidate = word[start:end] if start == 0 else "##" + word[start:end]
            if candidate in vocab:
                pieces.append(candidate)
                start = end
                break
        else:
            return ["[UNK]"]
    return pieces


def mask_tokens(input_ids, special_mask, mask_id, vocab_size, mlm_probability=0.15,
                generator=None):
    labels = input_ids.clone()
    inputs = input_ids.clone()
    probability = torch.full(labels.shape, mlm_probability)
    probability[special_mask.bool()] = 0.0
    chosen = torch.bernoulli(probability, generator=generator).bool()
    labels[~chosen] = -100
    to_mask = torch.bernoulli(torch.full(labels.shape, 0.8), generator=generator).bool() & chosen
    inputs[to_mask] = mask_id
    to_random = torch.bernoulli(torch.full(labels.shape, 0.5), generator=generator).bool()
    to_random = to_random & chosen & ~to_mask
    random_ids = torch.randint(vocab_size, labels.shape, generator=generator)
    inputs[to_random] = random_ids[to_random]
    return inputs, labels


def bert_embeddings(input_ids, token_type_ids, word, position, token_type, ln_weight, ln_bias,
                    eps=1e-12):
    T = input_ids.shape[1]
    x = word[input_ids] + position[torch.arange(T)] + token_type[token_type_ids]
    return F.layer_norm(x, (x.shape[-1],), ln_weight, ln_bias, eps)
"""


def _plant(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, f"mutant anchor not found exactly once: {old!r}"
    return SOLUTION.replace(old, new)


MUTANTS: list[Mutant] = [
    Mutant(
        "wordpiece_no_prefix",
        catches="wordpiece_basic",
        source=_plant('else "##" + word[start:end]', "else word[start:end]"),
        note="continuation pieces are looked up without ##",
    ),
    Mutant(
        "wordpiece_shortest_first",
        catches="wordpiece_longest",
        source=_plant("range(len(word), start, -1)", "range(start + 1, len(word) + 1)"),
        note="takes the shortest matching piece",
    ),
    Mutant(
        "wordpiece_partial_unknown",
        catches="wordpiece_unknown",
        source=_plant(
            '        else:\n            return ["[UNK]"]\n',
            '        else:\n            pieces.append("[UNK]")\n            break\n',
        ),
        note="keeps the pieces found before the unknown rest",
    ),
    Mutant(
        "wordpiece_no_length_limit",
        catches="wordpiece_unknown",
        source=_plant(
            '    if len(word) > max_input_chars_per_word:\n        return ["[UNK]"]\n', ""
        ),
        note="ignores max_input_chars_per_word",
    ),
    Mutant(
        "mask_labels_everywhere",
        catches="mask_labels",
        source=_plant("    labels[~chosen] = -100\n", ""),
        note="the loss would count every token, even those the model sees",
    ),
    Mutant(
        "mask_specials_allowed",
        catches="mask_specials",
        source=_plant("    probability[special_mask.bool()] = 0.0\n", ""),
        note="[CLS], [SEP] and padding can be masked",
    ),
    Mutant(
        "mask_in_place",
        catches="mask_input_untouched",
        source=_plant("    inputs = input_ids.clone()\n", "    inputs = input_ids\n"),
        note="writes [MASK] into the caller's batch",
    ),
    Mutant(
        "mask_random_share_wrong",
        catches="mask_exact",
        source=_plant("torch.full(labels.shape, 0.5)", "torch.full(labels.shape, 0.1)"),
        note="0.1 of the remaining 20 %: only 2 % random tokens",
    ),
    Mutant(
        "mask_randint_first",
        catches="mask_exact",
        source=_plant(
            "    to_random = torch.bernoulli(torch.full(labels.shape, 0.5), generator=generator).bool()\n",
            "    random_ids = torch.randint(vocab_size, labels.shape, generator=generator)\n"
            "    to_random = torch.bernoulli(torch.full(labels.shape, 0.5), generator=generator).bool()\n",
        ).replace(
            "    random_ids = torch.randint(vocab_size, labels.shape, generator=generator)\n"
            "    inputs[to_random]",
            "    inputs[to_random]",
        ),
        note="the same distribution, drawn in another order",
    ),
    Mutant(
        "mask_random_overwrites_mask",
        catches="mask_statistics",
        source=_plant(
            "    to_random = to_random & chosen & ~to_mask\n",
            "    to_random = to_random & chosen\n",
        ),
        note="random ids also replace half of the [MASK] tokens: 40 % [MASK], 50 % random",
    ),
    Mutant(
        "embeddings_no_token_type",
        catches="embeddings_values",
        source=_plant(" + token_type[token_type_ids]", ""),
        note="the segment embedding is left out",
    ),
    Mutant(
        "embeddings_positions_from_one",
        catches="embeddings_values",
        source=_plant("position[torch.arange(T)]", "position[torch.arange(1, T + 1)]"),
        note="positions counted from 1",
    ),
    Mutant(
        "embeddings_default_eps",
        catches="embeddings_values",
        source=_plant("ln_weight, ln_bias, eps)", "ln_weight, ln_bias)"),
        note="ignores eps (uses 1e-5)",
    ),
    Mutant(
        "embeddings_detached_word",
        catches="embeddings_gradients",
        source=_plant("word[input_ids]", "word.detach()[input_ids]"),
        note="no gradient reaches the word embeddings",
    ),
]
