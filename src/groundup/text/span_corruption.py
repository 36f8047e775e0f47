"""T5's pre-training objective: span corruption (Raffel et al. 2020, section 3.1.4).

Pick about 15 % of the tokens of a sequence in spans of mean length 3. The encoder input keeps
the other tokens and puts one sentinel token in place of each span; the target lists the
spans, each after its sentinel, and ends with EOS:

    original: Thank you for inviting me to your party last week .
    inputs:   Thank you <X> me to your party <Y> week . </s>
    targets:  <X> for inviting <Y> last <Z> </s>

Sentinels are the last ids of the vocabulary, counting down: the first span gets
vocab_size - 1 (T5's <extra_id_0>), the second vocab_size - 2, and so on. The targets are
short (a fifth of the input here), which makes pre-training cheap, and the decoder must
produce whole spans, not single tokens.

The procedure is that of Hugging Face's T5 pre-training script (run_t5_mlm_flax.py), itself
a port of the T5 code: the same noise mask from the same random numbers, the same sentinels,
and the same length arithmetic.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- how long things get


def corrupted_lengths(
    num_tokens: int, noise_density: float, mean_noise_span_length: float
) -> tuple[int, int]:
    """(inputs length, targets length) after corrupting num_tokens tokens.

    inputs  = kept tokens + one sentinel per span + EOS
    targets = noise tokens + one sentinel per span + EOS
    """
    num_noise_tokens = int(round(num_tokens * noise_density))
    num_nonnoise_tokens = num_tokens - num_noise_tokens
    num_noise_spans = int(round(num_noise_tokens / mean_noise_span_length))
    return (
        num_nonnoise_tokens + num_noise_spans + 1,
        num_noise_tokens + num_noise_spans + 1,
    )


def compute_input_and_target_lengths(
    inputs_length: int, noise_density: float = 0.15, mean_noise_span_length: float = 3.0
) -> tuple[int, int]:
    """(tokens to draw from the text, targets length) so that corrupted inputs are exactly
    inputs_length long. Corruption shortens the input, so more tokens go in than come out:
    512 encoder positions take 568 tokens, and the targets are 114 long.

    The largest token count whose corrupted input still fits is found by counting up.
    """
    tokens_length = inputs_length
    while corrupted_lengths(tokens_length + 1, noise_density, mean_noise_span_length)[0] <= (
        inputs_length
    ):
        tokens_length += 1
    real_inputs_length, targets_length = corrupted_lengths(
        tokens_length, noise_density, mean_noise_span_length
    )
    # With half the tokens noise the targets could come out one longer than the inputs;
    # the reference then drops one token, which makes them as long as the inputs.
    if noise_density == 0.5 and targets_length > real_inputs_length:
        tokens_length -= 1
        targets_length -= 1
    return tokens_length, targets_length


# ---------------------------------------------------------------- which tokens become noise


def random_segmentation(
    num_items: int, num_segments: int, rng: np.random.RandomState
) -> np.ndarray:
    """Split num_items into num_segments lengths >= 1, every split equally likely:
    choose num_segments - 1 of the num_items - 1 gaps as cuts."""
    is_cut = np.arange(num_items - 1) < (num_segments - 1)
    rng.shuffle(is_cut)
    segment_id = np.cumsum(np.pad(is_cut, [[1, 0]]))  # item i belongs to segment segment_id[i]
    return np.bincount(segment_id, minlength=num_segments)


def random_spans_noise_mask(
    length: int,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    rng: np.random.RandomState | np.random.Generator | None = None,
) -> np.ndarray:
    """(length,) bool, True = noise. round(length * noise_density) noise tokens (at least 1,
    at most length - 1) in round(noise / mean_noise_span_length) spans (at least 1).

    Noise and kept tokens are each cut into that many spans at random, then interleaved
    kept, noise, kept, noise, ...: the sequence starts with kept tokens and ends with noise.
    Pass np.random.RandomState(seed) to reproduce the reference exactly (it shuffles with
    NumPy's global RandomState).
    """
    rng = np.random.default_rng() if rng is None else rng
    num_noise_tokens = int(np.round(length * noise_density))
    num_nonnoise_tokens = length - num_noise_tokens
    num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
    # The span count is limited by the rarer kind, since both kinds need one token per span.
    num_noise_spans = int(
        np.round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length)
    )
    num_noise_spans = max(num_noise_spans, 1)
    num_nonnoise_tokens = length - num_noise_tokens

    noise_span_lengths = random_segmentation(num_noise_tokens, num_noise_spans, rng)
    nonnoise_span_lengths = random_segmentation(num_nonnoise_tokens, num_noise_spans, rng)
    interleaved = np.stack([nonnoise_span_lengths, noise_span_lengths], axis=1).reshape(-1)
    span_starts = np.cumsum(interleaved)[:-1]
    span_start_indicator = np.zeros(length, dtype=np.int64)
    span_start_indicator[span_starts] = 1
    span_number = np.cumsum(span_start_indicator)  # 0, 0, 1, 1, 1, 2, ...: odd = noise
    return span_number % 2 == 1


# ---------------------------------------------------------------- inputs and targets


def replace_spans(tokens: np.ndarray, mask: np.ndarray, vocab_size: int, eos_id: int) -> np.ndarray:
    """Each run of True in mask becomes one sentinel (vocab_size - 1, vocab_size - 2, ...);
    tokens where mask is False stay; EOS is appended."""
    starts = mask & ~np.concatenate([[False], mask[:-1]])
    sentinels = vocab_size - np.cumsum(starts)  # first run -> vocab_size - 1
    keep = ~mask | starts  # a run keeps only its first position, which holds the sentinel
    return np.append(np.where(starts, sentinels, tokens)[keep], eos_id)


def span_corrupt(
    tokens: np.ndarray,
    vocab_size: int,
    eos_id: int = 1,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    rng: np.random.RandomState | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) of one sequence of token ids (no EOS of its own).

    vocab_size is the number of ids including the sentinels (len(tokenizer) for T5: 32100;
    the model's embedding may be larger). The same sentinel opens a span's place in the
    inputs and the span itself in the targets, so the two together give back the original.
    """
    noise = random_spans_noise_mask(len(tokens), noise_density, mean_noise_span_length, rng)
    inputs = replace_spans(tokens, noise, vocab_size, eos_id)
    targets = replace_spans(tokens, ~noise, vocab_size, eos_id)
    return inputs, targets


def span_corrupt_batch(
    tokens: np.ndarray,
    vocab_size: int,
    eos_id: int = 1,
    decoder_start_id: int = 0,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    rng: np.random.RandomState | np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """The collator: tokens (B, L), L from compute_input_and_target_lengths, to
    input_ids (B, inputs_length), labels (B, targets_length) and decoder_input_ids (the
    labels shifted right behind the start token). Every row has its own random mask, but the
    same lengths, so no padding is needed."""
    rng = np.random.default_rng() if rng is None else rng
    pairs = [
        span_corrupt(row, vocab_size, eos_id, noise_density, mean_noise_span_length, rng)
        for row in tokens
    ]
    input_ids = np.stack([inputs for inputs, _ in pairs])
    labels = np.stack([targets for _, targets in pairs])
    decoder_input_ids = np.concatenate(
        [np.full((len(labels), 1), decoder_start_id), labels[:, :-1]], axis=1
    )
    return {"input_ids": input_ids, "labels": labels, "decoder_input_ids": decoder_input_ids}


def reconstruct(
    inputs: np.ndarray, targets: np.ndarray, vocab_size: int, num_sentinels: int = 100
) -> np.ndarray:
    """The original tokens from (inputs, targets): put each target span where its sentinel
    sits in the inputs. Ids >= vocab_size - num_sentinels count as sentinels."""
    first_sentinel = vocab_size - num_sentinels

    def spans(sequence: np.ndarray) -> dict[int, list[int]]:
        """sentinel id -> the tokens after it, up to the next sentinel or EOS."""
        found: dict[int, list[int]] = {}
        current: list[int] | None = None
        for token in sequence[:-1].tolist():  # drop EOS
            if token >= first_sentinel:
                current = found.setdefault(token, [])
            elif current is not None:
                current.append(token)
        return found

    filled = spans(targets)
    out: list[int] = []
    for token in inputs[:-1].tolist():
        out.extend(filled[token] if token >= first_sentinel else [token])
    return np.array(out, dtype=inputs.dtype)
