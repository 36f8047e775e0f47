"""Greedy and beam search against Hugging Face `generate` on tiny random GPT-2 models.

Scores are float32 sums of log-probabilities, as in `transformers`; they must agree to 1e-5.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.models.decoding import beam_search, greedy_search

transformers = pytest.importorskip("transformers")

VOCAB, EOS, PAD = 50, 7, 3
EOS_BOOST = 0.4


def tiny_gpt2(seed: int, eos_boost: float = EOS_BOOST) -> transformers.GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        vocab_size=VOCAB,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=0,
        eos_token_id=EOS,
        tie_word_embeddings=False,
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        # Peakier next-token distributions, and an eos logit raised along the final LayerNorm's
        # bias, so that eos comes up after a few tokens but not always at once.
        model.lm_head.weight.mul_(4.0)
        direction = torch.randn(config.n_embd)
        direction /= direction.norm()
        model.transformer.ln_f.bias.copy_(direction)
        model.lm_head.weight[EOS] += eos_boost * direction
    return model


def step_fn(model: transformers.GPT2LMHeadModel):
    return lambda tokens: model(tokens).logits[:, -1]


@pytest.fixture(scope="module")
def model() -> transformers.GPT2LMHeadModel:
    return tiny_gpt2(seed=0)


@pytest.fixture(scope="module")
def prompts() -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.randint(8, VOCAB, (3, 4), generator=generator)


def hf_beam(model, prompts, **kwargs):
    with torch.no_grad():
        out = model.generate(
            prompts,
            attention_mask=torch.ones_like(prompts),
            do_sample=False,
            eos_token_id=EOS,
            pad_token_id=PAD,
            return_dict_in_generate=True,
            output_scores=True,
            **kwargs,
        )
    return out


@pytest.mark.parametrize("num_beams", [2, 3, 4])
@pytest.mark.parametrize("length_penalty", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("early_stopping", [True, False, "never"])
def test_matches_transformers_beam_search(
    model, prompts, num_beams, length_penalty, early_stopping
):
    kwargs = dict(
        num_beams=num_beams,
        length_penalty=length_penalty,
        early_stopping=early_stopping,
        max_new_tokens=8,
        num_return_sequences=num_beams,
    )
    expected = hf_beam(model, prompts, **kwargs)
    ours = beam_search(step_fn(model), prompts, eos_token_id=EOS, pad_token_id=PAD, **kwargs)
    assert torch.equal(ours.sequences, expected.sequences)
    torch.testing.assert_close(ours.scores, expected.sequences_scores, rtol=0, atol=1e-5)


@pytest.mark.parametrize("num_beams", [3, 4])
@pytest.mark.parametrize("num_return_sequences", [1, 2])
def test_matches_transformers_beam_search_when_most_candidates_end(
    prompts, num_beams, num_return_sequences
):
    # With eos this likely, several of the best continuations end at every step: the search
    # must still find num_beams live ones among its 2 * num_beams candidates.
    model = tiny_gpt2(seed=2, eos_boost=2.0)
    kwargs = dict(
        num_beams=num_beams,
        length_penalty=1.0,
        max_new_tokens=5,
        num_return_sequences=num_return_sequences,
    )
    expected = hf_beam(model, prompts, **kwargs)
    ours = beam_search(step_fn(model), prompts, eos_token_id=EOS, pad_token_id=PAD, **kwargs)
    assert torch.equal(ours.sequences, expected.sequences)
    torch.testing.assert_close(ours.scores, expected.sequences_scores, rtol=0, atol=1e-5)


def test_eos_occurs_in_the_oracle_runs(model, prompts):
    # Otherwise the beam tests above would not exercise the pool of finished hypotheses.
    out = hf_beam(model, prompts, num_beams=3, max_new_tokens=8, num_return_sequences=3)
    ended = (out.sequences[:, prompts.size(1) :] == EOS).any(dim=1)
    assert ended.any() and not ended.all()


def test_matches_transformers_greedy_and_beam_one(model, prompts):
    with torch.no_grad():
        expected = model.generate(
            prompts,
            attention_mask=torch.ones_like(prompts),
            do_sample=False,
            num_beams=1,
            max_new_tokens=8,
            eos_token_id=EOS,
            pad_token_id=PAD,
            return_dict_in_generate=True,
            output_logits=True,
        )
    generated = expected.sequences[:, prompts.size(1) :]
    log_probs = torch.log_softmax(torch.stack(expected.logits, dim=1), dim=-1)
    token_log_probs = log_probs.gather(-1, generated[..., None]).squeeze(-1)
    after_eos = (generated == EOS).long().cumsum(dim=1) - (generated == EOS).long() > 0
    expected_scores = token_log_probs.masked_fill(after_eos, 0.0).sum(dim=1)
    greedy = greedy_search(step_fn(model), prompts, 8, eos_token_id=EOS, pad_token_id=PAD)
    assert torch.equal(greedy.sequences, expected.sequences)
    torch.testing.assert_close(greedy.scores, expected_scores, rtol=0, atol=1e-5)
    for rank, prompt in enumerate(prompts):
        one = beam_search(
            step_fn(model),
            prompt[None],
            num_beams=1,
            max_new_tokens=8,
            length_penalty=0.0,
            early_stopping=True,
            eos_token_id=EOS,
            pad_token_id=PAD,
        )
        alone = greedy_search(step_fn(model), prompt[None], 8, eos_token_id=EOS, pad_token_id=PAD)
        assert torch.equal(one.sequences, alone.sequences)
        torch.testing.assert_close(one.scores, greedy.scores[rank : rank + 1], rtol=0, atol=1e-5)


def decode_both(seed: int, num_beams: int, max_new_tokens: int):
    model = tiny_gpt2(seed)
    prompt = torch.randint(8, VOCAB, (2, 3), generator=torch.Generator().manual_seed(seed))
    greedy = greedy_search(step_fn(model), prompt, max_new_tokens, EOS, PAD)
    beam = beam_search(
        step_fn(model),
        prompt,
        num_beams=num_beams,
        max_new_tokens=max_new_tokens,
        length_penalty=0.0,
        early_stopping="never",
        eos_token_id=EOS,
        pad_token_id=PAD,
    )
    return greedy, beam


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), num_beams=st.integers(2, 4), max_new_tokens=st.integers(1, 2))
def test_beam_search_scores_at_least_greedy_over_two_tokens(seed, num_beams, max_new_tokens):
    # Greedy's first token is the best one, so it survives the first step as a beam; the
    # best continuation over all beams then scores at least as high as greedy's.
    greedy, beam = decode_both(seed, num_beams, max_new_tokens)
    assert torch.all(beam.scores >= greedy.scores - 1e-5)


def test_beam_search_can_score_below_greedy_over_longer_outputs():
    # Not a theorem beyond two tokens: here greedy's prefix falls out of the 2 beams at the
    # third token, and greedy then ends with eos at a better total than any beam reaches.
    greedy, beam = decode_both(seed=56, num_beams=2, max_new_tokens=6)
    assert beam.scores[0] < greedy.scores[0] - 1.0
