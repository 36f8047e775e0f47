"""UniLM (Dong et al. 2019): one Transformer encoder, three language models, chosen by the mask.

The input is one packed sequence  [SOS] S1 [EOS] S2 [EOS] [PAD]...  with segment ids 0 for
[SOS] S1 [EOS] and 1 for S2 [EOS]. The weights are the same for every objective; only which
positions a token may attend to changes (True = visible):

    bidirectional     every token sees every real token             (BERT's MLM)
    left-to-right     token i sees the real tokens j <= i            (GPT's causal LM)
    seq2seq           an S1 token sees all of S1; an S2 token sees all of S1 and the S2
                      tokens up to itself                            (encoder-decoder in one)

Padding is never visible. A padding row itself sees the real tokens, so that no row is
empty (an all-masked softmax is NaN); what it computes is ignored anyway.

The masks are (B, T, T) booleans, query by key; `encode` runs a groundup.models.bert encoder
under such a mask (Bert.forward only takes a padding mask).

The model is BERT's masked-LM model (BertForPreTraining without NSP): one encoder, one tied
output head; with six segment embeddings, each objective gets its own pair of them, the
paper's way of telling the model which language model it is. `objective_batch` makes
inputs and labels for an objective, `unilm_loss` scores them under its mask, and `generate`
writes S2 for a given S1, greedily, under the seq2seq mask. A left-to-right row is exactly
what a causal BERT (transformers' is_decoder=True) computes; the seq2seq mask is the one
unilm-v1's data loader builds (see the tests).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from groundup.models.bert import Bert
from groundup.models.bert_pretraining import IGNORE, BertForPreTraining, mask_tokens

MODES = ("bidirectional", "left-to-right", "seq2seq")


def segment_layout(
    first_lengths: list[int], second_lengths: list[int], T: int
) -> tuple[Tensor, Tensor]:
    """token_type_ids and attention_mask (B, T) for rows [SOS] S1 [EOS] S2 [EOS] [PAD]...
    where S1 and S2 have the given numbers of tokens (without the special ones)."""
    B = len(first_lengths)
    token_type_ids = torch.zeros(B, T, dtype=torch.long)
    attention_mask = torch.zeros(B, T, dtype=torch.long)
    for row, (n1, n2) in enumerate(zip(first_lengths, second_lengths, strict=True)):
        first_end, total = n1 + 2, n1 + n2 + 3  # [SOS] S1 [EOS] | S2 [EOS]
        if total > T:
            raise ValueError(f"row {row} needs {total} positions, only {T} given")
        token_type_ids[row, first_end:total] = 1
        attention_mask[row, :total] = 1
    return token_type_ids, attention_mask


def attention_masks(token_type_ids: Tensor, attention_mask: Tensor, mode: str) -> Tensor:
    """(B, T) segment ids and padding mask (1 = real) -> (B, T, T) bool, [query, key]."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    T = token_type_ids.shape[1]
    real_key = attention_mask.bool()[:, None, :]  # (B, 1, T)
    # earlier[i, j]: key j is not after query i
    earlier = torch.ones(T, T, dtype=torch.bool, device=token_type_ids.device).tril()
    if mode == "bidirectional":
        visible = real_key.expand(-1, T, -1)
    elif mode == "left-to-right":
        visible = real_key & earlier
    else:
        source_key = (token_type_ids == 0)[:, None, :]  # S1 is visible to everyone ...
        target_query = (token_type_ids == 1)[:, :, None]  # ... S2 only to S2, leftwards
        visible = real_key & (source_key | (target_query & earlier))
    padding_query = ~attention_mask.bool()[:, :, None]
    return torch.where(padding_query, real_key, visible)


def encode(
    bert: Bert,
    input_ids: Tensor,
    token_type_ids: Tensor,
    mask: Tensor,
    position_ids: Tensor | None = None,
) -> Tensor:
    """The encoder's last hidden states (B, T, H) under a (B, T, T) bool mask (True = may
    attend), built from Bert's own embeddings and layers."""
    B, T = input_ids.shape
    if position_ids is None:
        position_ids = torch.arange(T, device=input_ids.device).expand(B, T)
    x = bert.embeddings(input_ids, token_type_ids, position_ids)
    if bert.embedding_projection is not None:
        x = bert.embedding_projection(x)
    heads_mask = mask[:, None]  # (B, 1, T, T): the same mask for every head
    for i in range(bert.config.num_hidden_layers):
        x = bert.layers[i % len(bert.layers)](x, heads_mask)
    return x


# ---------------------------------------------------------------- objectives and generation


def next_token_labels(
    input_ids: Tensor, token_type_ids: Tensor, attention_mask: Tensor, mode: str
) -> Tensor:
    """(B, T) labels for the two one-directional objectives: position i learns the token at
    i + 1 (IGNORE where there is nothing to learn).

    left-to-right: every real position whose successor is real, as in GPT.
    seq2seq: only where the successor is in S2 [EOS] (segment 1): the [EOS] of S1 predicts
    the first S2 token, each S2 token the next, the last one the closing [EOS]. S1 itself
    is the condition, never a target."""
    if mode not in ("left-to-right", "seq2seq"):
        raise ValueError(f"next-token labels are for left-to-right or seq2seq, got {mode!r}")
    target = attention_mask[:, 1:].bool()  # the successor is a real token
    if mode == "seq2seq":
        target = target & (token_type_ids[:, 1:] == 1)
    labels = torch.full_like(input_ids, IGNORE)
    labels[:, :-1] = torch.where(target, input_ids[:, 1:], IGNORE)
    return labels


def objective_batch(
    input_ids: Tensor,
    token_type_ids: Tensor,
    attention_mask: Tensor,
    mode: str,
    special_mask: Tensor,
    mask_id: int,
    vocab_size: int,
    mlm_probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """(inputs, labels) for one objective on packed rows.

    bidirectional: BERT's cloze task (mask_tokens: 15 % of the ordinary tokens chosen, 80 %
    of those become [MASK], 10 % a random id, 10 % stay); the mask lets them see both sides.
    left-to-right, seq2seq: the inputs unchanged, next-token labels. The paper uses the
    cloze task for all three; predicting the next token under the same masks trains every
    position instead of 15 % of them, and generation needs no [MASK] placeholder."""
    if mode == "bidirectional":
        return mask_tokens(input_ids, special_mask, mask_id, vocab_size, mlm_probability, generator)
    return input_ids, next_token_labels(input_ids, token_type_ids, attention_mask, mode)


def segment_embedding_ids(bert: Bert, token_type_ids: Tensor, mode: str) -> Tensor:
    """Which segment embeddings a row of this objective uses. The paper also tells the model
    which objective it is in, with a separate set of segment embeddings per objective: a
    model with six (type_vocab_size=6) gets 0/1 for bidirectional, 2/3 for left-to-right and
    4/5 for seq2seq rows; a model with two shares 0/1 among all three."""
    if bert.config.type_vocab_size >= 2 * len(MODES):
        return token_type_ids + 2 * MODES.index(mode)
    return token_type_ids


def unilm_loss(
    model: BertForPreTraining,
    inputs: Tensor,
    token_type_ids: Tensor,
    attention_mask: Tensor,
    labels: Tensor,
    mode: str,
) -> Tensor:
    """Mean cross-entropy over the labelled positions, with the encoder under `mode`'s mask."""
    logits, targets = labelled_logits(model, inputs, token_type_ids, attention_mask, labels, mode)
    return F.cross_entropy(logits, targets)


def labelled_logits(
    model: BertForPreTraining,
    inputs: Tensor,
    token_type_ids: Tensor,
    attention_mask: Tensor,
    labels: Tensor,
    mode: str,
) -> tuple[Tensor, Tensor]:
    """(logits (N, vocab), targets (N,)) at the N labelled positions, under `mode`'s mask.
    The vocabulary-sized decoder runs only there: the other positions have no label."""
    mask = attention_masks(token_type_ids, attention_mask, mode)
    segments = segment_embedding_ids(model.bert, token_type_ids, mode)
    hidden = encode(model.bert, inputs, segments, mask)
    chosen = labels != IGNORE
    return model.cls.predictions(hidden[chosen]), labels[chosen]


@torch.no_grad()
def generate(
    model: BertForPreTraining,
    sources: list[list[int]],
    sos_id: int,
    eos_id: int,
    pad_id: int,
    max_new_tokens: int,
) -> list[list[int]]:
    """Greedy S2 for each S1 (token ids without special tokens), under the seq2seq mask.

    Row b is [SOS] S1 [EOS] y1 .. yk: S1 is segment 0, the tokens generated so far segment
    1. The output at the last real position scores y(k+1); a row stops at [EOS] (not
    returned) or after max_new_tokens. Each step runs the whole prefix again: simple, and
    the outputs at earlier positions could not change anyway (the mask hides the future)."""
    was_training = model.training
    model.eval()
    prompts = [[sos_id, *source, eos_id] for source in sources]
    generated: list[list[int]] = [[] for _ in sources]
    done = [False] * len(sources)
    for _ in range(max_new_tokens):
        rows = [prompt + tokens for prompt, tokens in zip(prompts, generated, strict=True)]
        lengths = torch.tensor([len(row) for row in rows])
        T = int(lengths.max())
        input_ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
        token_type_ids = torch.zeros(len(rows), T, dtype=torch.long)
        attention_mask = torch.zeros(len(rows), T, dtype=torch.long)
        for b, (row, prompt) in enumerate(zip(rows, prompts, strict=True)):
            input_ids[b, : len(row)] = torch.tensor(row)
            token_type_ids[b, len(prompt) : len(row)] = 1
            attention_mask[b, : len(row)] = 1
        mask = attention_masks(token_type_ids, attention_mask, "seq2seq")
        segments = segment_embedding_ids(model.bert, token_type_ids, "seq2seq")
        hidden = encode(model.bert, input_ids, segments, mask)
        last = hidden[torch.arange(len(rows)), lengths - 1]
        next_ids = model.cls.predictions(last).argmax(-1).tolist()
        for b, token in enumerate(next_ids):
            if done[b]:
                continue
            if token == eos_id:
                done[b] = True
            else:
                generated[b].append(token)
        if all(done):
            break
    model.train(was_training)
    return generated
