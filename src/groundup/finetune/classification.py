"""Sequence classification: a linear head on a pretrained BERT, fine-tuned end to end.

    text -> WordPiece ids -> BERT -> one vector per text (pooling) -> dropout -> W x + b -> logits

Pooling turns the (B, T, H) token vectors into one (B, H) vector per text:
    "pooler"  tanh(W h_[CLS] + b), BERT's pooler: what transformers' BertForSequenceClassification
              uses (the pooler was trained with next-sentence prediction in BERT's pre-training)
    "cls"     h_[CLS] as it is
    "mean"    the average of the real tokens' vectors (padding excluded), how sentence
              encoders such as all-MiniLM-L6-v2 were trained, so their natural choice
The loss is cross-entropy over the labels (mean squared error for a single output, a
regression, as transformers does with num_labels = 1).

Fine-tuning (Devlin et al. 2019; Howard & Ruder 2018): every weight trains, with a small
learning rate (2e-5 .. 1e-4), AdamW, warm-up then linear decay to 0, optional layer-wise
learning-rate decay (finetune/schedule.py), gradient-norm clipping; the dev set is scored
after each epoch and the weights of the best epoch are kept (early stopping).

Dynamic padding: texts are tokenized once; each batch is padded only to its own longest
text (models.bert.collate), not to a global max_length, so short texts cost little.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.finetune.batching import shuffled_batches, sorted_batches
from groundup.finetune.schedule import EarlyStopping, layerwise_lr_groups, linear_warmup_decay
from groundup.metrics.classification import accuracy, f1
from groundup.models.bert import Bert, collate, mean_pool
from groundup.text.wordpiece import Encoding, WordPieceTokenizer

POOLINGS = ("pooler", "cls", "mean")


class ClassifierOutput(NamedTuple):
    logits: Tensor  # (B, num_labels)
    loss: Tensor | None  # a scalar when labels were given


class BertClassifier(nn.Module):
    """BERT + pooling + dropout + a linear layer (transformers' BertForSequenceClassification
    with pooling="pooler"; the state dict names are "bert.*" and "classifier.*" as there)."""

    def __init__(
        self,
        bert: Bert,
        num_labels: int,
        pooling: str = "pooler",
        dropout: float | None = None,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if pooling == "pooler" and bert.pooler is None:
            raise ValueError('this BERT has no pooler; use pooling="cls" or "mean"')
        self.bert, self.num_labels, self.pooling = bert, num_labels, pooling
        p = bert.config.hidden_dropout_prob if dropout is None else dropout
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(bert.config.hidden_size, num_labels)
        # as BERT initialises its own linear layers: small weights, zero bias
        nn.init.normal_(self.classifier.weight, 0.0, bert.config.initializer_range)
        nn.init.zeros_(self.classifier.bias)

    @classmethod
    def from_pretrained(
        cls, folder: str | Path, num_labels: int, pooling: str = "pooler", **options: Any
    ) -> BertClassifier:
        """A pretrained encoder from a Hugging Face folder and a new, random head."""
        return cls(Bert.from_pretrained(folder), num_labels, pooling, **options)

    def pool(self, input_ids: Tensor, attention_mask: Tensor, token_type_ids: Tensor) -> Tensor:
        """(B, T) ids -> (B, H): one vector per text."""
        out = self.bert(input_ids, attention_mask, token_type_ids)
        if self.pooling == "pooler":
            return out.pooler_output
        if self.pooling == "cls":
            return out.last_hidden_state[:, 0]
        return mean_pool(out.last_hidden_state, attention_mask)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        labels: Tensor | None = None,
    ) -> ClassifierOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        pooled = self.pool(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else classification_loss(logits, labels)
        return ClassifierOutput(logits, loss)


def classification_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy for (B, C) logits and (B,) class ids; MSE when C = 1 (regression)."""
    if logits.shape[-1] == 1:
        return F.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
    return F.cross_entropy(logits, labels)


# ---------------------------------------------------------------- data: dynamic padding


def encode_texts(
    tokenizer: WordPieceTokenizer, texts: Sequence[str], max_length: int = 128
) -> list[Encoding]:
    """Tokenize once, truncated to max_length tokens ([CLS] and [SEP] included), unpadded."""
    return tokenizer.encode_batch(list(texts), truncation=True, max_length=max_length)


def batches(
    encodings: Sequence[Encoding],
    labels: Sequence[int] | None,
    batch_size: int,
    pad_id: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
    group_by_length: bool = False,
) -> Iterator[tuple[list[int], dict[str, Tensor]]]:
    """(indices, batch) pairs; each batch is padded to its own longest text.

    Without shuffling, the texts are taken longest first, so texts of similar length share a
    batch and padding is rare (for prediction; `indices` says where each row belongs).
    Shuffled with group_by_length, each batch is a random set of texts of similar length.
    """
    lengths = [len(encoding) for encoding in encodings]
    if shuffle:
        chunks = shuffled_batches(lengths, batch_size, generator, group_by_length)
    else:
        chunks = sorted_batches(lengths, batch_size)
    for chosen in chunks:
        batch = collate([encodings[i] for i in chosen], pad_id, device)
        if labels is not None:
            batch["labels"] = torch.tensor([labels[i] for i in chosen], device=device)
        yield chosen, batch


@torch.no_grad()
def predict_proba(
    model: BertClassifier,
    encodings: Sequence[Encoding],
    pad_id: int,
    batch_size: int = 64,
) -> Tensor:
    """(N, C) class probabilities (softmax of the logits), in the order of `encodings`."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    probabilities = torch.empty(len(encodings), model.num_labels)
    for chosen, batch in batches(encodings, None, batch_size, pad_id, device=device):
        logits = model(**batch).logits.float()
        probabilities[chosen] = logits.softmax(-1).cpu()
    model.train(was_training)
    return probabilities


def predict(model: BertClassifier, encodings: Sequence[Encoding], pad_id: int) -> list[int]:
    """The most probable class of each text."""
    return predict_proba(model, encodings, pad_id).argmax(-1).tolist()


def evaluate(
    model: BertClassifier, encodings: Sequence[Encoding], labels: Sequence[int], pad_id: int
) -> dict[str, float]:
    """Accuracy and macro F1 (metrics/classification.py) of the model's predictions."""
    predicted = predict(model, encodings, pad_id)
    return {
        "accuracy": accuracy(labels, predicted),
        "f1": float(f1(labels, predicted, average="macro")),
    }


# ---------------------------------------------------------------- fine-tuning


@dataclass
class FineTuneSettings:
    epochs: int = 3
    batch_size: int = 16
    lr: float = 5e-5  # the peak learning rate (head and top layer)
    warmup_ratio: float = 0.1  # share of all optimizer steps spent warming up
    weight_decay: float = 0.01
    layer_decay: float = 1.0  # 1: the same rate everywhere; 0.8: each layer below x 0.8
    max_grad_norm: float = 1.0  # clip the global gradient norm (0: off)
    patience: int = 2  # stop after this many evaluations without a better dev accuracy
    evals_per_epoch: int = 1  # dev evaluations per epoch (more points on a learning curve)
    seed: int = 0
    group_by_length: bool = False  # batches of similar length (batching.py): less padding


@dataclass
class FineTuneResult:
    best_accuracy: float  # on dev, of the weights that were kept
    best_step: int  # the optimizer step after which they were evaluated
    history: list[dict[str, float]] = field(default_factory=list)  # one entry per evaluation
    losses: list[float] = field(default_factory=list)  # training loss per optimizer step
    stopped_early: bool = False


def fine_tune(
    model: BertClassifier,
    train: tuple[Sequence[Encoding], Sequence[int]],
    dev: tuple[Sequence[Encoding], Sequence[int]],
    pad_id: int,
    settings: FineTuneSettings,
    on_step: Callable[[int, int, float], None] | None = None,
) -> FineTuneResult:
    """Train every parameter that requires a gradient; keep the best dev weights.

    on_step(step, total_steps, loss) is called after every optimizer step (progress bars).
    A frozen encoder (requires_grad False) gives a linear probe with the same loop.
    """
    train_encodings, train_labels = train
    steps_per_epoch = math.ceil(len(train_encodings) / settings.batch_size)
    total_steps = steps_per_epoch * settings.epochs
    warmup_steps = round(settings.warmup_ratio * total_steps)
    # evaluate after these steps of each epoch, the last one always at the epoch's end
    eval_at = {
        round(steps_per_epoch * (k + 1) / settings.evals_per_epoch)
        for k in range(settings.evals_per_epoch)
    }

    groups = layerwise_lr_groups(model, settings.lr, settings.layer_decay, settings.weight_decay)
    optimizer = torch.optim.AdamW(groups, lr=settings.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: linear_warmup_decay(step, warmup_steps, total_steps)
    )
    trainable = [p for group in groups for p in group["params"]]
    stopper = EarlyStopping(settings.patience, mode="max")
    best_state = copy.deepcopy(model.state_dict())
    result = FineTuneResult(best_accuracy=-1.0, best_step=0)
    generator = torch.Generator().manual_seed(settings.seed)
    device = next(model.parameters()).device

    step = 0
    for epoch in range(settings.epochs):
        model.train()
        batch_stream = batches(
            train_encodings,
            train_labels,
            settings.batch_size,
            pad_id,
            shuffle=True,
            generator=generator,
            device=device,
            group_by_length=settings.group_by_length,
        )
        for step_in_epoch, (_, batch) in enumerate(batch_stream, start=1):
            loss = model(**batch).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if settings.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(trainable, settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            step += 1
            result.losses.append(loss.item())
            if on_step is not None:
                on_step(step, total_steps, loss.item())
            if step_in_epoch not in eval_at:
                continue
            scores = evaluate(model, *dev, pad_id)
            model.train()
            result.history.append({"epoch": epoch + step_in_epoch / steps_per_epoch,
                                   "step": step, **scores})  # fmt: skip
            stop = stopper.step(scores["accuracy"])
            if stopper.improved:
                best_state = copy.deepcopy(model.state_dict())
                result.best_accuracy, result.best_step = scores["accuracy"], step
            if stop:
                result.stopped_early = True
                break
        if result.stopped_early:
            break
    model.load_state_dict(best_state)
    model.eval()
    return result
