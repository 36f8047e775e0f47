"""Decoding: turning a next-token model into whole sequences, by greedy search and beam search.

Both searches are model-agnostic. They only need a `step` function that maps the tokens so far,
shape (N, T), to the logits of the next token, shape (N, V). Every row of a batch is decoded
independently; all prompts in a batch have the same length. `step` sees the whole sequence
each time (no key/value cache): simple, and fast enough for small models.

Beam search follows Hugging Face `transformers` (5.x, `GenerationMixin._beam_search`) so that
its sequences and scores can be checked against `model.generate(num_beams=...)`:

- a hypothesis' score is its summed log-probability divided by len ** length_penalty, where len
  counts the generated tokens only: the eos token counts, the prompt does not (for an
  encoder-decoder the prompt is the decoder's start token, so the rule is the same);
- each step keeps the best 2 * num_beams continuations, so that num_beams of them survive even
  when the best ones all end; only a continuation ranked among the first num_beams may enter
  the pool of finished hypotheses, which holds num_beams per batch row;
- early_stopping=True stops a row as soon as its pool is full; early_stopping=False stops it
  when the best running beam, scored at its current length, cannot beat the worst finished
  one; "never" scores it at the longest possible length when length_penalty > 0;
- at max_new_tokens every surviving continuation counts as finished.

Unlike `transformers`, impossible scores are -inf rather than -1e9, and the padding is
pad_token_id even when it is 0 (`transformers` then pads with eos).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

StepFn = Callable[[Tensor], Tensor]


@dataclass
class DecodeOutput:
    sequences: Tensor  # (B * num_return_sequences, T + generated), prompt included
    scores: Tensor  # (B * num_return_sequences,)


@torch.no_grad()
def greedy_search(
    step: StepFn,
    prompt: Tensor,
    max_new_tokens: int,
    eos_token_id: int | None = None,
    pad_token_id: int | None = None,
) -> DecodeOutput:
    """Append the most likely token max_new_tokens times (or until every row has emitted eos).

    A row that has finished receives pad_token_id from then on. Its score is the summed
    log-probability of its generated tokens up to and including eos.
    """
    if eos_token_id is not None and pad_token_id is None:
        raise ValueError("pad_token_id is needed to fill rows that finished early")
    tokens = prompt
    scores = torch.zeros(prompt.size(0), dtype=torch.float64)
    finished = torch.zeros(prompt.size(0), dtype=torch.bool)
    for _ in range(max_new_tokens):
        log_probs = torch.log_softmax(step(tokens).float(), dim=-1)
        best_log_prob, next_token = log_probs.max(dim=-1)
        scores += torch.where(finished, 0.0, best_log_prob.double())
        if eos_token_id is not None:
            next_token = next_token.masked_fill(finished, pad_token_id)
            finished |= next_token == eos_token_id
        tokens = torch.cat([tokens, next_token[:, None]], dim=1)
        if finished.all():
            break
    return DecodeOutput(tokens, scores.float())


@torch.no_grad()
def beam_search(
    step: StepFn,
    prompt: Tensor,
    num_beams: int,
    max_new_tokens: int,
    length_penalty: float = 1.0,
    early_stopping: bool | str = False,
    eos_token_id: int | None = None,
    pad_token_id: int | None = None,
    num_return_sequences: int = 1,
) -> DecodeOutput:
    """Beam search over prompt (B, T); returns the num_return_sequences best hypotheses per row,
    best first, padded with pad_token_id (or eos) to a common length."""
    if num_beams < 1 or not 1 <= num_return_sequences <= num_beams:
        raise ValueError("need num_beams >= 1 and 1 <= num_return_sequences <= num_beams")
    if early_stopping not in (True, False, "never"):
        raise ValueError(f"early_stopping must be True, False or 'never', got {early_stopping!r}")
    batch, prompt_len = prompt.shape
    beams, keep = num_beams, 2 * num_beams
    fill = pad_token_id if pad_token_id is not None else eos_token_id
    fill = 0 if fill is None else fill
    max_len = prompt_len + max_new_tokens
    rows = torch.arange(batch)[:, None]

    # Running beams. Only beam 0 starts alive, so the first step does not pick the same
    # continuation num_beams times.
    running = prompt[:, None, :].expand(batch, beams, prompt_len)
    running_scores = torch.full((batch, beams), float("-inf"))
    running_scores[:, 0] = 0.0

    # The pool of finished hypotheses: sequences padded to max_len, scores, generated lengths.
    pool = torch.full((batch, beams, max_len), fill, dtype=prompt.dtype)
    pool_scores = torch.full((batch, beams), float("-inf"))
    pool_lengths = torch.zeros((batch, beams), dtype=torch.long)
    pool_full = torch.zeros((batch, beams), dtype=torch.bool)  # slot holds a real hypothesis
    done = torch.zeros(batch, dtype=torch.bool)  # row cannot improve any more

    for generated in range(1, max_new_tokens + 1):
        cur_len = prompt_len + generated - 1
        logits = step(running.reshape(batch * beams, cur_len)).float()
        vocab = logits.size(-1)
        log_probs = torch.log_softmax(logits, dim=-1).view(batch, beams, vocab)
        total = (log_probs + running_scores[..., None]).view(batch, beams * vocab)

        # The best `keep` continuations over all beams of a row.
        cand_scores, flat = total.topk(min(keep, beams * vocab), dim=-1)
        parent, token = flat // vocab, flat % vocab
        cand = torch.cat([running[rows, parent], token[..., None]], dim=-1)
        ends = torch.full_like(token, generated == max_new_tokens, dtype=torch.bool)
        if eos_token_id is not None:
            ends |= token == eos_token_id

        # Candidates that ended go to the pool, the best unfinished ones keep running.
        alive_scores = cand_scores.masked_fill(ends, float("-inf"))
        running_scores, pick = alive_scores.topk(beams, dim=-1)
        running = cand[rows, pick]

        top_ranked = torch.arange(cand.size(1)) < beams
        pool_closed = done | (pool_full.all(dim=1) & (early_stopping is True))
        enters = ends & top_ranked & ~pool_closed[:, None] & torch.isfinite(cand_scores)
        penalised = (cand_scores / generated**length_penalty).masked_fill(~enters, float("-inf"))
        padded = torch.full((batch, cand.size(1), max_len), fill, dtype=prompt.dtype)
        padded[..., : cur_len + 1] = cand
        merged_scores = torch.cat([pool_scores, penalised], dim=1)
        pool_scores, best = merged_scores.topk(beams, dim=-1)
        pool = torch.cat([pool, padded], dim=1)[rows, best]
        pool_lengths = torch.cat([pool_lengths, torch.full_like(token, generated)], dim=1)[
            rows, best
        ]
        pool_full = torch.cat([pool_full, enters], dim=1)[rows, best]

        # Can the best running beam still beat the worst finished hypothesis?
        if early_stopping == "never" and length_penalty > 0.0:
            best_length = max_new_tokens
        else:
            best_length = generated
        best_running = running_scores[:, 0] / best_length**length_penalty
        done |= pool_full.all(dim=1) & (best_running <= pool_scores.min(dim=1).values)

        if done.all() or (early_stopping is True and pool_full.all()) or ends.all():
            break

    out_len = prompt_len + int(pool_lengths[:, :num_return_sequences].max())
    sequences = pool[:, :num_return_sequences, :out_len].reshape(-1, out_len)
    return DecodeOutput(sequences, pool_scores[:, :num_return_sequences].reshape(-1))
