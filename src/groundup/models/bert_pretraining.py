"""BERT's pre-training: the two heads, the two objectives and the data they need.

Devlin et al. 2019 pre-train the encoder of groundup.models.bert on unlabelled text with two
tasks at once:

1. Masked language modelling (MLM). 15 % of the ordinary tokens are chosen; of those, 80 %
   are replaced by [MASK], 10 % by a random token and 10 % stay as they are. The model must
   predict the original token at every chosen position (the labels are -100 everywhere
   else, which cross-entropy ignores). Only [MASK] would teach the model that the tokens it
   sees are always right, and [MASK] never occurs in fine-tuning; the random and unchanged
   tenth keep it guessing about every position.
       head:  logits = LayerNorm(act(W h + b)) E^T + bias      E = the word embeddings
   The decoder shares its weight with the input embeddings (tied), plus an own bias.
2. Next-sentence prediction (NSP). Two segments [CLS] A [SEP] B [SEP]: half the time B
   follows A in the document (label 0), half the time it comes from another document
   (label 1). A linear layer on the pooled [CLS] vector predicts which.
       loss = CE(MLM logits, labels) + CE(NSP logits, next_sentence_label)

`mask_tokens` draws exactly as transformers' DataCollatorForLanguageModeling does: the same
three Bernoulli draws and one randint in the same order, so with the same torch.Generator
both give the same tensors. The module names follow transformers' BertForPreTraining
(bert.*, cls.predictions.*, cls.seq_relationship.*), so its checkpoints load, and ours load
there.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write, atomic_write_json
from groundup.models.bert import (
    ACTIVATIONS,
    Bert,
    BertConfig,
    read_state_dict,
    rename,
    resolve_folder,
    to_our_names,
)
from groundup.text.wordpiece import MASK, WordPieceTokenizer

IGNORE = -100  # the label cross-entropy skips (transformers' convention)


class PreTrainingOutput(NamedTuple):
    loss: Tensor | None  # mlm_loss + nsp_loss (each only if its labels were given)
    prediction_logits: Tensor  # (B, T, vocab): the MLM guesses at every position
    seq_relationship_logits: Tensor | None  # (B, 2): 0 = B follows A, 1 = B is random
    mlm_loss: Tensor | None
    nsp_loss: Tensor | None


# ---------------------------------------------------------------- the heads


class BertPredictionHeadTransform(nn.Module):
    """dense -> activation -> LayerNorm, applied to every token before the decoder. With
    ALBERT's factorised embeddings the dense layer maps hidden_size down to embedding_size,
    the width of the (tied) decoder."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        E = config.embedding_size or config.hidden_size
        self.dense = nn.Linear(config.hidden_size, E)
        self.activation = ACTIVATIONS[config.hidden_act]
        self.LayerNorm = nn.LayerNorm(E, eps=config.layer_norm_eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.LayerNorm(self.activation(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    """The MLM head: transform, then scores against every word embedding, plus a bias."""

    def __init__(self, config: BertConfig, word_embeddings: nn.Embedding) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        E = config.embedding_size or config.hidden_size
        self.decoder = nn.Linear(E, config.vocab_size, bias=False)
        self.decoder.weight = word_embeddings.weight  # tied: one matrix for input and output
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, hidden: Tensor) -> Tensor:
        return self.decoder(self.transform(hidden)) + self.bias


class BertPreTrainingHeads(nn.Module):
    def __init__(self, config: BertConfig, word_embeddings: nn.Embedding, nsp: bool) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config, word_embeddings)
        self.seq_relationship = nn.Linear(config.hidden_size, 2) if nsp else None


class BertForPreTraining(nn.Module):
    """Encoder + MLM head (+ NSP head on the pooled [CLS] vector, if nsp).

    nsp=True is transformers' BertForPreTraining; nsp=False is its BertForMaskedLM (no
    pooler, no NSP), the RoBERTa recipe."""

    def __init__(self, config: BertConfig, nsp: bool = True) -> None:
        super().__init__()
        self.config = config
        self.bert = Bert(config, add_pooling_layer=nsp)
        self.cls = BertPreTrainingHeads(config, self.bert.embeddings.word_embeddings, nsp)
        # N(0, 0.02) as in the encoder; the decoder is the embedding matrix, already drawn
        self.cls.predictions.transform.apply(self.bert._init_weights)
        if self.cls.seq_relationship is not None:
            self.bert._init_weights(self.cls.seq_relationship)

    @property
    def nsp(self) -> bool:
        return self.cls.seq_relationship is not None

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        labels: Tensor | None = None,
        next_sentence_label: Tensor | None = None,
    ) -> PreTrainingOutput:
        """labels (B, T): the original token where the input was masked, -100 elsewhere;
        next_sentence_label (B,): 0 if the second segment follows the first, 1 if random."""
        out = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.cls.predictions(out.last_hidden_state)
        nsp_logits = None
        if self.cls.seq_relationship is not None:
            nsp_logits = self.cls.seq_relationship(out.pooler_output)
        mlm_loss = nsp_loss = None
        if labels is not None:
            mlm_loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=IGNORE
            )
        if next_sentence_label is not None:
            if nsp_logits is None:
                raise ValueError("this model has no NSP head (nsp=False)")
            nsp_loss = F.cross_entropy(nsp_logits, next_sentence_label.view(-1))
        parts = [loss for loss in (mlm_loss, nsp_loss) if loss is not None]
        total = sum(parts[1:], parts[0]) if parts else None
        return PreTrainingOutput(total, logits, nsp_logits, mlm_loss, nsp_loss)

    # ------------------------------------------------------------ Hugging Face checkpoints

    @classmethod
    def from_pretrained(
        cls, folder: str | Path, device: str | torch.device = "cpu"
    ) -> BertForPreTraining:
        """A folder saved by transformers' BertForPreTraining (with NSP) or BertForMaskedLM
        (without). The decoder weight is the word embedding matrix, so it is not read."""
        path = resolve_folder(folder, allow_download=False)
        config = BertConfig.from_dict(json.loads((path / "config.json").read_text("utf-8")))
        stored = read_state_dict(path)
        heads = {
            name: tensor
            for name, tensor in stored.items()
            if name.startswith("cls.") and not name.startswith("cls.predictions.decoder.")
        }
        if "cls.predictions.bias" not in heads:
            raise KeyError(f"{path} has no MLM head (cls.predictions.*): a bare BertModel?")
        model = cls(config, nsp="cls.seq_relationship.weight" in heads)
        encoder = to_our_names(stored)
        if not model.nsp:  # a pooler without an NSP head has nothing to feed
            encoder = {n: t for n, t in encoder.items() if not n.startswith("pooler.")}
        state = {"bert." + name: tensor for name, tensor in encoder.items()} | heads
        state["cls.predictions.decoder.weight"] = state["bert.embeddings.word_embeddings.weight"]
        model.load_state_dict(state)  # strict: a missing or unexpected tensor is an error
        return model.to(device).eval()

    def save_pretrained(self, folder: str | Path) -> Path:
        """config.json + model.safetensors in transformers' BertForPreTraining (or
        BertForMaskedLM) layout; the tied decoder weight is stored once, as the embedding."""
        from safetensors.torch import save_file

        folder = Path(folder)
        tensors = {}
        for name, tensor in self.state_dict().items():
            if name == "cls.predictions.decoder.weight":
                continue
            if name.startswith("bert."):
                name = "bert." + rename(name.removeprefix("bert."), to_ours=False)
            tensors[name] = tensor.detach().cpu().contiguous()
        architecture = "BertForPreTraining" if self.nsp else "BertForMaskedLM"
        config = {"architectures": [architecture], "model_type": "bert", **asdict(self.config)}
        atomic_write(folder / "model.safetensors", lambda tmp: save_file(tensors, str(tmp)))
        atomic_write_json(folder / "config.json", config)
        return folder


# ---------------------------------------------------------------- masking (80/10/10)


def special_tokens_mask(input_ids: Tensor, tokenizer: WordPieceTokenizer) -> Tensor:
    """True where the id is a special token ([CLS], [SEP], [PAD], [UNK], [MASK]): these are
    never chosen, as transformers' collator decides with get_special_tokens_mask."""
    specials = [tokenizer.vocab[t] for t in tokenizer.special_tokens if t in tokenizer.vocab]
    return torch.isin(input_ids, torch.tensor(specials, device=input_ids.device))


def mask_tokens(
    input_ids: Tensor,
    special_mask: Tensor,
    mask_id: int,
    vocab_size: int,
    mlm_probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """(masked inputs, labels) from (B, T) ids; the input is not changed.

    Each non-special position is chosen with probability mlm_probability; a chosen one
    becomes [MASK] with probability 0.8, otherwise a uniformly random id with probability
    0.5 (so 0.1 overall), otherwise stays (0.1). labels hold the original id at the chosen
    positions and -100 elsewhere. The draws, and their order, are transformers'."""
    labels = input_ids.clone()
    inputs = input_ids.clone()
    probability = torch.full(labels.shape, mlm_probability)
    probability.masked_fill_(special_mask.bool().cpu(), 0.0)
    chosen = torch.bernoulli(probability, generator=generator).bool().to(labels.device)
    labels[~chosen] = IGNORE
    to_mask = torch.bernoulli(torch.full(labels.shape, 0.8), generator=generator).bool()
    to_mask = to_mask.to(labels.device) & chosen
    inputs[to_mask] = mask_id
    # half of the remaining fifth: 0.5 * 0.2 = 10 % of the chosen ones
    to_random = torch.bernoulli(torch.full(labels.shape, 0.5), generator=generator).bool()
    to_random = to_random.to(labels.device) & chosen & ~to_mask
    random_ids = torch.randint(vocab_size, labels.shape, dtype=torch.long, generator=generator)
    inputs[to_random] = random_ids.to(labels.device)[to_random]
    return inputs, labels


def mask_batch(
    input_ids: Tensor,
    tokenizer: WordPieceTokenizer,
    mlm_probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """mask_tokens with the special tokens, [MASK] and vocabulary size of a tokenizer."""
    specials = special_tokens_mask(input_ids, tokenizer)
    return mask_tokens(
        input_ids,
        specials,
        tokenizer.vocab[MASK],
        tokenizer.vocab_size,
        mlm_probability,
        generator,
    )


# ---------------------------------------------------------------- next-sentence pairs


@dataclass
class SentencePair:
    first: list[int]  # token ids of segment A (no special tokens)
    second: list[int]  # segment B
    is_random: int  # 0: B follows A in its document, 1: B comes from another document


def nsp_pairs(
    documents: Sequence[Sequence[Sequence[int]]],
    rng: random.Random,
    max_tokens: int,
) -> list[SentencePair]:
    """One pair per pair of adjacent sentences: with probability 1/2 the true next
    sentence, else a random sentence of a different document. documents: lists of
    sentences, each a list of token ids. Each pair is cut to max_tokens with its [CLS] and
    two [SEP] counted, the longer segment first (from its end)."""
    if len(documents) < 2:
        raise ValueError("random second segments need at least two documents")
    pairs = []
    for d, document in enumerate(documents):
        for i in range(len(document) - 1):
            if rng.random() < 0.5:
                second, is_random = document[i + 1], 0
            else:
                other = rng.randrange(len(documents) - 1)
                other += other >= d  # any document but this one
                second, is_random = rng.choice(documents[other]), 1
            first, second = cut_pair(list(document[i]), list(second), max_tokens - 3)
            pairs.append(SentencePair(first, second, is_random))
    return pairs


def cut_pair(first: list[int], second: list[int], budget: int) -> tuple[list[int], list[int]]:
    """Drop tokens from the end of the longer segment until both fit in budget."""
    while len(first) + len(second) > budget:
        if len(first) > len(second):
            first.pop()
        else:
            second.pop()
    return first, second


def pair_batch(pairs: Sequence[SentencePair], tokenizer: WordPieceTokenizer) -> dict[str, Tensor]:
    """[CLS] A [SEP] B [SEP], padded on the right: input_ids, token_type_ids (0 for A, 1 for
    B), attention_mask and next_sentence_label, each a tensor with one row per pair."""
    rows = [
        [tokenizer.cls_id, *p.first, tokenizer.sep_id, *p.second, tokenizer.sep_id] for p in pairs
    ]
    T = max(len(r) for r in rows)
    batch = {
        "input_ids": torch.full((len(rows), T), tokenizer.pad_id, dtype=torch.long),
        "token_type_ids": torch.zeros(len(rows), T, dtype=torch.long),
        "attention_mask": torch.zeros(len(rows), T, dtype=torch.long),
    }
    for row, (ids, pair) in enumerate(zip(rows, pairs, strict=True)):
        batch["input_ids"][row, : len(ids)] = torch.tensor(ids)
        batch["token_type_ids"][row, len(pair.first) + 2 : len(ids)] = 1
        batch["attention_mask"][row, : len(ids)] = 1
    batch["next_sentence_label"] = torch.tensor([p.is_random for p in pairs])
    return batch
