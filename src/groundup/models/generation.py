"""Generating text with a decoder-only model: the loop around the next-token prediction.

`generate` works with any model that follows the contract of kv_cache.py (GPT, Llama). It
runs the prompt through the model once (the prefill), which fills the KV cache, and then
feeds one token per step, so each step costs one token's worth of work instead of the whole
text's. Each step turns the last position's logits into a token:

1. repetition penalty: the logit of every token already in the text is divided by the
   penalty when positive and multiplied by it when negative (Keskar et al. 2019);
2. greedy: the argmax; otherwise temperature, top-k, top-p and a draw (sampling.py).

A row stops at `eos_token_id` (which it keeps) or when its generated text contains one of
`stop_strings` (which is cut off); from then on it receives `pad_token_id`. The loop ends
when every row has stopped or after `max_new_tokens`.

Prompts of different lengths go in one batch padded on the left (`left_pad`), so every
row's next token is in the last column; the attention mask hides the padding, and the
positions count real tokens only. Greedy output matches Hugging Face's
`model.generate(do_sample=False)` token for token. Two deliberate differences: the
repetition penalty ignores padding (Hugging Face also penalises the pad token), and a stop
string is removed from the output (Hugging Face keeps it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from groundup.models.kv_cache import KVCache
from groundup.models.sampling import sample_next
from groundup.train.trainer import unwrap


def left_pad(prompts: Sequence[Sequence[int]], pad_token_id: int) -> tuple[Tensor, Tensor]:
    """Stack token-id lists of different lengths into input_ids and attention_mask, both
    (B, longest) int64, padding on the left: mask 1 for a real token, 0 for padding."""
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("left_pad needs at least one prompt, and no prompt may be empty")
    longest = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), longest), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), longest), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, longest - len(prompt) :] = torch.as_tensor(prompt, dtype=torch.long)
        attention_mask[row, longest - len(prompt) :] = 1
    return input_ids, attention_mask


def penalize_repetition(
    logits: Tensor, previous: Tensor, penalty: float, attention_mask: Tensor | None = None
) -> Tensor:
    """logits (B, V); previous (B, T) the tokens so far. Every token that occurs in its row
    of `previous` (padding excluded) gets its logit divided by `penalty` if positive and
    multiplied by it if negative: penalty > 1 makes repeating less likely."""
    if penalty <= 0:
        raise ValueError(f"repetition_penalty must be > 0, got {penalty!r}")
    vocab = logits.size(-1)
    if attention_mask is not None:  # send padding to an extra column that is dropped below
        previous = previous.masked_fill(attention_mask == 0, vocab)
    seen = torch.zeros(logits.size(0), vocab + 1, dtype=torch.bool, device=logits.device)
    seen.scatter_(1, previous, True)
    penalized = torch.where(logits < 0, logits * penalty, logits / penalty)
    return torch.where(seen[:, :vocab], penalized, logits)


def generate(
    model: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor | None = None,
    *,
    max_new_tokens: int,
    greedy: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float | None = None,
    eos_token_id: int | Sequence[int] | None = None,
    pad_token_id: int | None = None,
    stop_strings: Sequence[str] = (),
    decode: Callable[[list[int]], str] | None = None,
    use_cache: bool = True,
    max_context: int | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Extend input_ids (B, T) by up to max_new_tokens tokens; returns (B, T + generated).

    attention_mask (B, T): 1 for real tokens, 0 for left padding (default: all real).
    eos_token_id: one id or several; a row that emits one stops. stop_strings: a row stops
    once `decode(its generated ids)` contains one; the tokens from the one where the string
    begins are replaced by padding. pad_token_id fills stopped rows (default: the first eos
    id). max_context: the longest window the model can read (GPT's block_size); a longer
    text is cropped from the left, which invalidates the cache, so from then on every step
    reads the whole window again. Put the model in eval mode first (dropout).
    """
    eos_ids = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or [])
    if pad_token_id is None and eos_ids:
        pad_token_id = eos_ids[0]
    if stop_strings:
        if pad_token_id is None or decode is None:
            raise ValueError("stop_strings need pad_token_id and decode (token ids -> text)")
        if not all(stop_strings):
            raise ValueError("a stop string must not be empty")
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    # The output layer is the largest matrix; models that can skip it for all but the last
    # position (the only one whose prediction is used) are asked to. A torch.compile or DDP
    # wrapper shows only (*args, **kwargs); the module inside it has the real signature.
    takes_last_only = "last_only" in inspect.signature(unwrap(model).forward).parameters
    last_only = {"last_only": True} if takes_last_only else {}

    batch, prompt_length = input_ids.shape
    tokens, mask = input_ids, attention_mask
    eos = torch.tensor(eos_ids, dtype=torch.long, device=tokens.device)
    stopped = torch.zeros(batch, dtype=torch.bool, device=tokens.device)
    cache = KVCache() if use_cache else None
    cached = 0  # columns of `tokens` whose keys and values are in the cache
    with torch.inference_mode():  # no autograd bookkeeping at all
        for _ in range(max_new_tokens):
            first = 0 if max_context is None else max(0, tokens.size(1) - max_context)
            if not use_cache or first > 0:
                # No cache, or the window slid: the cached keys sit at positions that have shifted.
                cache, cached = (KVCache() if use_cache else None), first
            logits, _ = model(
                tokens[:, cached:], attention_mask=mask[:, first:], cache=cache, **last_only
            )
            cached = tokens.size(1)
            logits = logits[:, -1, :]
            if repetition_penalty is not None:
                logits = penalize_repetition(logits, tokens, repetition_penalty, mask)
            next_token = sample_next(logits, temperature, top_k, top_p, greedy, generator)
            if pad_token_id is not None:
                next_token = next_token.masked_fill(stopped, pad_token_id)
            tokens = torch.cat([tokens, next_token[:, None]], dim=1)
            mask = torch.cat([mask, mask.new_ones(batch, 1)], dim=1)

            stopped |= torch.isin(next_token, eos)
            if stop_strings:
                _cut_stop_strings(
                    tokens, stopped, prompt_length, stop_strings, decode, pad_token_id
                )
            if stopped.all():
                break
    # Inference tensors cannot take part in autograd later; a clone made outside can.
    return tokens.clone()


def _cut_stop_strings(
    tokens: Tensor,
    stopped: Tensor,
    prompt_length: int,
    stop_strings: Sequence[str],
    decode: Callable[[list[int]], str],
    pad_token_id: int,
) -> None:
    """Stop (in place) every running row whose generated text contains a stop string, and
    overwrite its tokens from the first one that reaches into that string with padding."""
    for row in range(tokens.size(0)):
        if stopped[row]:
            continue
        generated = tokens[row, prompt_length:].tolist()
        text = decode(generated)
        starts = [text.find(s) for s in stop_strings if s in text]
        if not starts:
            continue
        # the first token whose text ends after the stop string begins
        cut = next(
            i for i in range(len(generated)) if len(decode(generated[: i + 1])) > min(starts)
        )
        tokens[row, prompt_length + cut :] = pad_token_id
        stopped[row] = True
