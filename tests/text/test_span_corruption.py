"""text/span_corruption.py against the data collator of transformers' T5 pre-training
example (examples/flax/language-modeling/run_t5_mlm_flax.py), transcribed below as the
oracle, and against the properties the paper states."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.text.span_corruption import (
    compute_input_and_target_lengths,
    random_spans_noise_mask,
    reconstruct,
    replace_spans,
    span_corrupt,
    span_corrupt_batch,
)

VOCAB = 32100  # len(T5Tokenizer): sentinels <extra_id_0> .. <extra_id_99> are 32099 .. 32000


# ---------------------------------------------------------------- the reference, transcribed


def reference_lengths(inputs_length, noise_density, mean_noise_span_length):
    def lengths(tokens_length):
        num_noise_tokens = int(round(tokens_length * noise_density))
        num_nonnoise_tokens = tokens_length - num_noise_tokens
        num_noise_spans = int(round(num_noise_tokens / mean_noise_span_length))
        return num_nonnoise_tokens + num_noise_spans + 1, num_noise_tokens + num_noise_spans + 1

    tokens_length = inputs_length
    while lengths(tokens_length + 1)[0] <= inputs_length:
        tokens_length += 1
    inputs_length, targets_length = lengths(tokens_length)
    if noise_density == 0.5 and targets_length > inputs_length:
        tokens_length -= 1
        targets_length -= 1
    return tokens_length, targets_length


def reference_noise_mask(length, noise_density, mean_noise_span_length):
    orig_length = length
    num_noise_tokens = int(np.round(length * noise_density))
    num_nonnoise_tokens = length - num_noise_tokens
    num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
    num_noise_spans = int(
        np.round(min(num_noise_tokens, num_nonnoise_tokens) / mean_noise_span_length)
    )
    num_noise_spans = max(num_noise_spans, 1)
    num_nonnoise_tokens = length - num_noise_tokens

    def _random_segmentation(num_items, num_segments):
        mask_indices = np.arange(num_items - 1) < (num_segments - 1)
        np.random.shuffle(mask_indices)
        first_in_segment = np.pad(mask_indices, [[1, 0]])
        segment_id = np.cumsum(first_in_segment)
        _, segment_length = np.unique(segment_id, return_counts=True)
        return segment_length

    noise_span_lengths = _random_segmentation(num_noise_tokens, num_noise_spans)
    nonnoise_span_lengths = _random_segmentation(num_nonnoise_tokens, num_noise_spans)
    interleaved_span_lengths = np.reshape(
        np.stack([nonnoise_span_lengths, noise_span_lengths], axis=1), [num_noise_spans * 2]
    )
    span_starts = np.cumsum(interleaved_span_lengths)[:-1]
    span_start_indicator = np.zeros((length,), dtype=np.int8)
    span_start_indicator[span_starts] = True
    span_num = np.cumsum(span_start_indicator)
    is_noise = np.equal(span_num % 2, 1)
    return is_noise[:orig_length]


def reference_create_sentinel_ids(mask_indices, vocab_size):
    start_indices = mask_indices - np.roll(mask_indices, 1, axis=-1) * mask_indices
    start_indices[:, 0] = mask_indices[:, 0]
    sentinel_ids = np.where(start_indices != 0, np.cumsum(start_indices, axis=-1), start_indices)
    sentinel_ids = np.where(sentinel_ids != 0, (vocab_size - sentinel_ids), 0)
    sentinel_ids -= mask_indices - start_indices
    return sentinel_ids


def reference_filter_input_ids(input_ids, sentinel_ids, eos_id):
    batch_size = input_ids.shape[0]
    input_ids_full = np.where(sentinel_ids != 0, sentinel_ids, input_ids)
    input_ids = input_ids_full[input_ids_full >= 0].reshape((batch_size, -1))
    return np.concatenate([input_ids, np.full((batch_size, 1), eos_id)], axis=-1)


def reference_collate(input_ids, vocab_size, eos_id, noise_density, mean_span, seed):
    np.random.seed(seed)
    batch_size, length = input_ids.shape
    mask = np.asarray(
        [reference_noise_mask(length, noise_density, mean_span) for _ in range(batch_size)]
    )
    input_sentinels = reference_create_sentinel_ids(mask.astype(np.int8), vocab_size)
    label_sentinels = reference_create_sentinel_ids((~mask).astype(np.int8), vocab_size)
    return (
        reference_filter_input_ids(input_ids, input_sentinels, eos_id),
        reference_filter_input_ids(input_ids, label_sentinels, eos_id),
    )


# ---------------------------------------------------------------- lengths


def test_lengths_of_the_t5_setup():
    # 512 encoder positions: 568 tokens go in, 114 target positions come out.
    assert compute_input_and_target_lengths(512, 0.15, 3.0) == (568, 114)


@given(
    st.integers(8, 1024),
    st.sampled_from([0.1, 0.15, 0.3, 0.5]),
    st.sampled_from([1.0, 2.0, 3.0, 5.0]),
)
@settings(max_examples=60, deadline=None)
def test_matches_reference_lengths(inputs_length, noise_density, mean_span):
    expected = reference_lengths(inputs_length, noise_density, mean_span)
    assert compute_input_and_target_lengths(inputs_length, noise_density, mean_span) == expected


@pytest.mark.parametrize("inputs_length", [64, 128, 512])
def test_corrupted_sequences_have_exactly_the_computed_lengths(inputs_length):
    tokens_length, targets_length = compute_input_and_target_lengths(inputs_length)
    tokens = np.random.default_rng(0).integers(2, 32000, (4, tokens_length))
    batch = span_corrupt_batch(tokens, VOCAB, rng=np.random.default_rng(1))
    assert batch["input_ids"].shape == (4, inputs_length)
    assert batch["labels"].shape == (4, targets_length)


# ---------------------------------------------------------------- the collator itself


@given(st.integers(2, 300), st.integers(0, 10_000), st.sampled_from([0.15, 0.5]))
@settings(max_examples=40, deadline=None)
def test_matches_reference_noise_mask(length, seed, noise_density):
    np.random.seed(seed)
    expected = reference_noise_mask(length, noise_density, 3.0)
    got = random_spans_noise_mask(length, noise_density, 3.0, np.random.RandomState(seed))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_collator(seed):
    tokens_length, _ = compute_input_and_target_lengths(114)
    tokens = np.random.default_rng(seed).integers(2, 32000, (3, tokens_length))
    expected_inputs, expected_labels = reference_collate(tokens, VOCAB, 1, 0.15, 3.0, seed)
    batch = span_corrupt_batch(tokens, VOCAB, eos_id=1, rng=np.random.RandomState(seed))
    np.testing.assert_array_equal(batch["input_ids"], expected_inputs)
    np.testing.assert_array_equal(batch["labels"], expected_labels)
    np.testing.assert_array_equal(batch["decoder_input_ids"][:, 0], 0)
    np.testing.assert_array_equal(batch["decoder_input_ids"][:, 1:], batch["labels"][:, :-1])


def test_paper_example_layout():
    # Kept, noise, kept, noise, ... with a fixed mask: sentinels count down from the top.
    tokens = np.array([10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    noise = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    assert replace_spans(tokens, noise, 100, 1).tolist() == [10, 11, 99, 14, 15, 16, 98, 18, 19, 1]
    assert replace_spans(tokens, ~noise, 100, 1).tolist() == [99, 12, 13, 98, 17, 97, 1]


# ---------------------------------------------------------------- properties


@given(st.integers(10, 400), st.integers(0, 10_000))
@settings(max_examples=60, deadline=None)
def test_inputs_and_targets_reconstruct_the_original(length, seed):
    tokens = np.random.default_rng(seed).integers(2, 32000, length)
    inputs, targets = span_corrupt(tokens, VOCAB, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(reconstruct(inputs, targets, VOCAB), tokens)
    assert inputs[-1] == 1 and targets[-1] == 1


@given(st.integers(20, 2000), st.integers(0, 10_000))
@settings(max_examples=60, deadline=None)
def test_noise_fraction_and_span_count(length, seed):
    noise = random_spans_noise_mask(length, 0.15, 3.0, np.random.default_rng(seed))
    num_noise = int(noise.sum())
    assert num_noise == int(np.round(length * 0.15))  # exact: 15 % of the tokens
    starts = noise & ~np.concatenate([[False], noise[:-1]])
    num_spans = int(starts.sum())
    expected_spans = max(int(np.round(num_noise / 3.0)), 1)
    # Spans of noise are separated by kept tokens, so none merge: the count is exact.
    assert num_spans == expected_spans
    assert not noise[0] and noise[-1]  # starts with kept tokens, ends with noise


def test_span_lengths_average_the_mean():
    rng = np.random.default_rng(0)
    lengths = []
    for _ in range(200):
        noise = random_spans_noise_mask(568, 0.15, 3.0, rng)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], noise.astype(int), [0]])))
        lengths.extend((edges[1::2] - edges[0::2]).tolist())
    assert np.mean(lengths) == pytest.approx(85 / 28, rel=1e-9)  # 85 noise tokens, 28 spans
    assert min(lengths) >= 1 and max(lengths) > 6  # random lengths, not all equal to 3
