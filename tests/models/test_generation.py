"""generate(): transformers' generate and logits processors as oracles, cache, padding, stops."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers.generation.logits_process import (
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from groundup.models.generation import generate, left_pad, penalize_repetition
from groundup.models.gpt import GPT, GPTConfig
from groundup.models.sampling import warp_logits

VOCAB = 26  # the letters a..z, so decoded text is easy to read and to cut
PAD = 0
PROMPTS = [[3, 7, 1, 4, 1, 5], [2, 6], [9, 2, 6, 5]]


def random_gpt(seed: int = 0, block_size: int = 64) -> GPT:
    torch.manual_seed(seed)
    config = GPTConfig(vocab_size=VOCAB, block_size=block_size, n_layer=2, n_head=2, n_embd=32)
    model = GPT(config).eval()
    with torch.no_grad():  # larger weights than GPT-2's init: sharper, more varied predictions
        for name, p in model.named_parameters():
            if name.endswith("weight") and "ln_" not in name:
                p.normal_(0.0, 0.3)
    return model


def decode(ids: list[int]) -> str:
    return "".join(chr(ord("a") + i) for i in ids)


def hf_copy(model: GPT, tmp_path):
    from transformers import GPT2LMHeadModel

    model.save_pretrained(tmp_path)
    return GPT2LMHeadModel.from_pretrained(tmp_path).eval()


def test_left_pad_puts_padding_on_the_left():
    input_ids, mask = left_pad([[5, 6, 7], [8]], pad_token_id=1)
    assert input_ids.tolist() == [[5, 6, 7], [1, 1, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert input_ids.dtype == mask.dtype == torch.long
    with pytest.raises(ValueError, match="empty"):
        left_pad([[1], []], pad_token_id=0)


def test_matches_transformers_greedy_generate_on_a_left_padded_batch(tmp_path):
    model = random_gpt(seed=1)
    hf = hf_copy(model, tmp_path)
    input_ids, mask = left_pad(PROMPTS, PAD)
    ours = generate(model, input_ids, mask, max_new_tokens=20, greedy=True, pad_token_id=PAD)
    theirs = hf.generate(
        input_ids, attention_mask=mask, do_sample=False, max_new_tokens=20, pad_token_id=PAD
    )
    assert ours.shape == (3, 6 + 20)
    assert torch.equal(ours, theirs)
    assert len(set(ours[:, 6:].flatten().tolist())) > 3  # not one token over and over
    # With an eos id that row 1 emits early: that row stops and is padded, as in transformers.
    eos = int(ours[1, 6 + 4])
    ours = generate(
        model, input_ids, mask, max_new_tokens=20, greedy=True, eos_token_id=eos, pad_token_id=PAD
    )
    theirs = hf.generate(
        input_ids,
        attention_mask=mask,
        do_sample=False,
        max_new_tokens=20,
        eos_token_id=eos,
        pad_token_id=PAD,
    )
    assert torch.equal(ours, theirs)
    first_eos = int((ours[1, 6:] == eos).nonzero()[0])
    assert (ours[1, 6 + first_eos + 1 :] == PAD).all()


def test_matches_transformers_greedy_generate_with_repetition_penalty(tmp_path):
    # Without padding: transformers also penalises the pad token, which this library skips.
    model = random_gpt(seed=2)
    hf = hf_copy(model, tmp_path)
    prompts = torch.tensor([[3, 7, 1, 4], [2, 6, 2, 6]])
    for penalty in (0.7, 1.5):
        ours = generate(model, prompts, max_new_tokens=15, greedy=True, repetition_penalty=penalty)
        theirs = hf.generate(
            prompts,
            attention_mask=torch.ones_like(prompts),
            do_sample=False,
            max_new_tokens=15,
            repetition_penalty=penalty,
            pad_token_id=PAD,
        )
        assert torch.equal(ours, theirs)
    plain = generate(model, prompts, max_new_tokens=15, greedy=True)
    assert not torch.equal(plain, ours)  # the penalty changed something


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 3),
    vocab=st.integers(2, 30),
    history=st.integers(1, 12),
    penalty=st.sampled_from([0.5, 1.0, 1.3, 2.0]),
    temperature=st.sampled_from([0.3, 1.0, 1.7]),
    top_k=st.one_of(st.none(), st.integers(1, 10)),
    top_p=st.one_of(st.none(), st.floats(0.05, 1.0)),
    seed=st.integers(0, 2**16),
)
def test_matches_transformers_logits_processors(
    batch, vocab, history, penalty, temperature, top_k, top_p, seed
):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, vocab, generator=g) * 2
    previous = torch.randint(0, vocab, (batch, history), generator=g)
    processors = [RepetitionPenaltyLogitsProcessor(penalty), TemperatureLogitsWarper(temperature)]
    if top_k is not None:
        processors.append(TopKLogitsWarper(top_k))
    if top_p is not None:
        processors.append(TopPLogitsWarper(top_p))
    expected = LogitsProcessorList(processors)(previous, logits.clone())
    ours = warp_logits(penalize_repetition(logits, previous, penalty), temperature, top_k, top_p)
    assert torch.equal(ours, expected)


def test_repetition_penalty_skips_padding():
    logits = torch.tensor([[2.0, -2.0, 4.0, 1.0]])
    previous = torch.tensor([[0, 1, 2]])
    mask = torch.tensor([[0, 1, 1]])  # token 0 is padding
    assert penalize_repetition(logits, previous, 2.0, mask).tolist() == [[2.0, -4.0, 2.0, 1.0]]


def test_cached_generation_equals_uncached_generation():
    model = random_gpt(seed=3)
    input_ids, mask = left_pad(PROMPTS, PAD)
    for kwargs in (
        dict(greedy=True),
        dict(temperature=0.8, top_k=10, top_p=0.9, repetition_penalty=1.2),
    ):
        runs = [
            generate(
                model,
                input_ids,
                mask,
                max_new_tokens=25,
                use_cache=use_cache,
                generator=torch.Generator().manual_seed(0),
                **kwargs,
            )
            for use_cache in (True, False)
        ]
        assert torch.equal(runs[0], runs[1])


def test_a_left_padded_batch_equals_each_prompt_alone():
    model = random_gpt(seed=4)
    input_ids, mask = left_pad(PROMPTS, PAD)
    width = input_ids.size(1)
    batch = generate(model, input_ids, mask, max_new_tokens=20, greedy=True, repetition_penalty=1.3)
    for row, prompt in enumerate(PROMPTS):
        alone = generate(
            model, torch.tensor([prompt]), max_new_tokens=20, greedy=True, repetition_penalty=1.3
        )
        assert torch.equal(batch[row, width:], alone[0, len(prompt) :])


def test_sliding_window_beyond_block_size_matches_the_uncached_loop():
    # 3 + 20 tokens through a block of 8: once the window slides, every step re-reads it.
    model = random_gpt(seed=5, block_size=8)
    prompt = torch.tensor([[1, 2, 3]])
    out = generate(model, prompt, max_new_tokens=20, greedy=True, max_context=8)
    for t in range(3, 23):
        context = out[:, max(0, t - 8) : t]
        assert torch.equal(out[:, t], model(context)[0][:, -1].argmax(-1))
    assert torch.equal(out, model.generate(prompt, 20, greedy=True))


def test_eos_and_stop_strings_stop_rows_and_stop_strings_are_cut():
    model = random_gpt(seed=6)
    input_ids, mask = left_pad(PROMPTS, PAD)
    width = input_ids.size(1)
    free = generate(model, input_ids, mask, max_new_tokens=30, greedy=True)
    texts = [decode(row[width:].tolist()) for row in free]
    assert all(len(set(text)) > 1 for text in texts)  # not one letter repeated

    # Stop at the two letters generated at positions 6-7 of row 0 (their first occurrence).
    stop = texts[0][6:8]
    out = generate(
        model,
        input_ids,
        mask,
        max_new_tokens=30,
        greedy=True,
        stop_strings=[stop, "zzzzz"],
        decode=decode,
        pad_token_id=PAD,
    )
    for row, text in enumerate(texts):
        generated = out[row, width:].tolist()
        if stop in text:
            cut = text.index(stop)
            assert generated[:cut] == free[row, width : width + cut].tolist()
            assert all(t == PAD for t in generated[cut:])
        else:
            assert generated == free[row, width : out.size(1)].tolist()
    ends = [text.index(stop) + len(stop) for text in texts if stop in text]
    if len(ends) == len(texts):  # every row stopped: the loop ended with the last of them
        assert out.size(1) == width + max(ends)

    # eos: the row keeps its eos token, then receives padding; rows without it run on.
    eos = free[0, width + 5].item()
    out = generate(model, input_ids, mask, max_new_tokens=30, greedy=True, eos_token_id=eos)
    for row in range(3):
        generated, reference = out[row, width:].tolist(), free[row, width:].tolist()
        if eos in reference[: len(generated)]:
            end = reference.index(eos) + 1
            assert generated[:end] == reference[:end]
            assert all(t == eos for t in generated[end:])  # pad defaults to the eos id
        else:
            assert generated == reference[: len(generated)]
    with pytest.raises(ValueError, match="decode"):
        generate(model, input_ids, max_new_tokens=2, stop_strings=["a"], pad_token_id=PAD)


def test_sampling_is_reproducible_with_a_seeded_generator_and_top_k_1_is_greedy():
    model = random_gpt(seed=7)
    input_ids, mask = left_pad(PROMPTS, PAD)

    def sample(seed: int, **kwargs) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return generate(model, input_ids, mask, max_new_tokens=30, generator=gen, **kwargs)

    assert torch.equal(sample(11), sample(11))
    assert not torch.equal(sample(11), sample(12))
    greedy = generate(model, input_ids, mask, max_new_tokens=30, greedy=True)
    assert torch.equal(sample(13, top_k=1), greedy)
    assert not torch.equal(sample(13), greedy)


def test_output_is_an_ordinary_tensor():
    # generate runs under inference_mode; what it returns must still work with autograd.
    model = random_gpt(seed=8)
    out = generate(model, torch.tensor([[1, 2]]), max_new_tokens=3, greedy=True)
    assert not out.is_inference()
    logits, _ = model(out)
    logits.sum().backward()


def test_a_compiled_model_is_still_asked_for_the_last_position_only(monkeypatch):
    # torch.compile's wrapper hides forward's keywords; generate looks at the module inside.
    model = random_gpt(seed=10)
    seen: list[bool] = []
    forward = model.forward

    def recording_forward(*args, last_only: bool = False, **kwargs):
        seen.append(last_only)
        return forward(*args, last_only=last_only, **kwargs)

    monkeypatch.setattr(model, "forward", recording_forward)
    compiled = torch.compile(model, backend="eager")  # graph capture, no code generation
    expected = generate(
        random_gpt(seed=10), torch.tensor([[1, 2, 3]]), max_new_tokens=4, greedy=True
    )
    actual = generate(compiled, torch.tensor([[1, 2, 3]]), max_new_tokens=4, greedy=True)
    assert torch.equal(actual, expected)
    assert seen == [True] * 4


def test_matches_transformers_llama_greedy_generate_on_a_left_padded_batch(tmp_path):
    # The same loop drives any model under the cache contract: here Llama with rotary
    # positions and grouped-query attention, against LlamaForCausalLM.generate.
    from transformers import LlamaForCausalLM

    from groundup.models.llama import Llama, LlamaConfig

    torch.manual_seed(9)
    config = LlamaConfig(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=48, n_layer=2, n_head=4, n_kv_head=2
    )
    model = Llama(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.endswith("norm.weight"):
                p.normal_(0.0, 0.3)
    model.save_pretrained(tmp_path)
    hf = LlamaForCausalLM.from_pretrained(tmp_path).eval()
    input_ids, mask = left_pad(PROMPTS, PAD)
    ours = generate(model, input_ids, mask, max_new_tokens=20, greedy=True, pad_token_id=PAD)
    theirs = hf.generate(
        input_ids, attention_mask=mask, do_sample=False, max_new_tokens=20, pad_token_id=PAD
    )
    assert ours.shape == (3, 6 + 20)
    assert torch.equal(ours, theirs)
    assert len(set(ours[:, 6:].flatten().tolist())) > 3  # not one token over and over
