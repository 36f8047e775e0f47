"""Extractive question answering (SQuAD v1.1): the answer is a span of the context.

The whole pipeline, in the order data flows through it:

    read_squad          SQuAD v1.1 JSON: articles -> paragraphs (context) -> questions with
                        answers, each answer a text and its character start in the context
    make_features       "[CLS] question [SEP] context [SEP]"; a context too long for
                        max_length becomes several overlapping windows (stride = tokens shared
                        by neighbouring windows); the answer's characters become a start and
                        an end token through the offsets; an answer outside a window points
                        at [CLS] (token 0), which the model learns to mean "not here"
    BertForQuestionAnswering
                        BERT + one linear layer: a start and an end logit per token; the loss
                        is the mean of the two cross-entropies (= transformers'
                        BertForQuestionAnswering)
    best_spans          n-best decoding: over all windows of a question, the span
                        start <= end inside the context, at most max_answer_length tokens,
                        with the highest start_logit + end_logit; offsets map it back to text
    squad_scores        the official evaluate-v1.1 rules: normalize (lower case, no
                        punctuation, no a/an/the, single spaces), exact match and token F1,
                        the best over the reference answers, averaged over questions, x 100
    fine_tune           AdamW with layer-wise learning rates and linear warm-up and decay

Windows with the offset mapping are what transformers' fast tokenizers return for
truncation="only_second", stride=..., return_overflowing_tokens=True,
return_offsets_mapping=True; the start and end positions follow the Hugging Face course's
training preprocessing. The tests compare both with transformers token for token.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.finetune.batching import shuffled_batches, sorted_batches
from groundup.finetune.schedule import layerwise_lr_groups, linear_warmup_decay
from groundup.models.bert import Bert, BertConfig
from groundup.text.wordpiece import Piece, WordPieceTokenizer

# ---------------------------------------------------------------- reading SQuAD


@dataclass
class Example:
    """One question about one context; several reference answers in the dev set."""

    id: str
    question: str
    context: str
    answers: list[str]  # texts; the first one is the training target
    answer_starts: list[int]  # character positions in the context
    title: str = ""


class SquadFormatError(ValueError):
    """A SQuAD file that does not have the v1.1 layout; the message names the file and entry."""


def parse_squad(raw: Any, source: str = "<data>") -> list[list[Example]]:
    """The examples of a parsed SQuAD v1.1 JSON, grouped by article (one list per article)."""

    def fail(where: str, what: str) -> SquadFormatError:
        return SquadFormatError(f"{source}: {where}: {what}")

    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise fail("top level", 'expected an object with a "data" list of articles')
    articles: list[list[Example]] = []
    for a, article in enumerate(raw["data"]):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise fail(f"article {a}", 'expected an object with a "paragraphs" list')
        title = str(article.get("title", ""))
        examples: list[Example] = []
        for p, paragraph in enumerate(paragraphs):
            where = f"article {a} paragraph {p}"
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context"), str):
                raise fail(where, 'expected an object with a "context" string')
            if not isinstance(paragraph.get("qas"), list):
                raise fail(where, 'expected a "qas" list of questions')
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                examples.append(parse_question(qa, context, title, where, fail))
        articles.append(examples)
    return articles


def parse_question(
    qa: Any, context: str, title: str, where: str, fail: Callable[[str, str], Exception]
) -> Example:
    if not isinstance(qa, dict) or not isinstance(qa.get("id"), str):
        raise fail(where, 'a question without an "id" string')
    where = f"{where} question id {qa['id']}"
    if not isinstance(qa.get("question"), str):
        raise fail(where, 'no "question" string')
    answers = qa.get("answers")
    if not isinstance(answers, list) or not answers:
        raise fail(where, 'expected a non-empty "answers" list (SQuAD v1.1 has no unanswerable)')
    texts, starts = [], []
    for answer in answers:
        text, start = answer.get("text"), answer.get("answer_start")
        if not isinstance(text, str) or not isinstance(start, int) or isinstance(start, bool):
            raise fail(where, 'each answer needs a "text" string and an "answer_start" integer')
        if not 0 <= start <= len(context) - len(text):
            raise fail(where, f"answer_start {start} + {len(text)} characters leaves the context")
        texts.append(text)
        starts.append(start)
    return Example(qa["id"], qa["question"], context, texts, starts, title)


def read_squad(path: str | Path) -> list[list[Example]]:
    """A SQuAD v1.1 JSON file as examples grouped by article; SquadFormatError when it is not."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SquadFormatError(f"{path}: cannot read it as JSON: {error}") from None
    return parse_squad(raw, str(path))


def split_articles(
    articles: Sequence[list[Example]], first: int, last: int
) -> tuple[list[Example], list[Example]]:
    """(examples of the first `first` articles, examples of the last `last` articles): whole
    articles go to one side, so no context is seen in training and in evaluation."""
    if first < 0 or last < 0 or first + last > len(articles):
        raise ValueError(f"{first} + {last} articles asked for, the data has {len(articles)}")
    head = [e for article in articles[:first] for e in article]
    tail = [e for article in articles[len(articles) - last :] for e in article]
    return head, tail


# ---------------------------------------------------------------- features (windows)


@dataclass
class Feature:
    """One window of one example: what the model reads, and how to map tokens back."""

    example_index: int
    input_ids: list[int]
    token_type_ids: list[int]
    attention_mask: list[int]
    offsets: list[tuple[int, int]]  # character span in the context; (0, 0) outside it
    context_mask: list[bool]  # True for context tokens (sequence id 1)
    start_position: int = 0  # token of the answer's first character; 0 = [CLS]: not here
    end_position: int = 0


def window_starts(length: int, budget: int, stride: int) -> list[int]:
    """Where the windows of `budget` tokens begin in a text of `length` tokens, each one
    `budget - stride` after the last, until a window reaches the end."""
    if not 0 <= stride < budget:
        raise ValueError(f"stride {stride} must be smaller than the window ({budget} tokens)")
    starts = [0]
    while starts[-1] + budget < length:
        starts.append(starts[-1] + budget - stride)
    return starts


def token_span(
    offsets: Sequence[tuple[int, int]], context_mask: Sequence[bool], start: int, end: int
) -> tuple[int, int]:
    """Tokens (first, last) covering the characters [start, end) of the context, or (0, 0)
    when the window does not hold them all (the Hugging Face course's rule)."""
    inside = [i for i, is_context in enumerate(context_mask) if is_context]
    first, last = inside[0], inside[-1]
    if offsets[first][0] > start or offsets[last][1] < end:
        return 0, 0
    token_start = first
    while token_start <= last and offsets[token_start][0] <= start:
        token_start += 1
    token_end = last
    while token_end >= first and offsets[token_end][1] >= end:
        token_end -= 1
    return token_start - 1, token_end + 1


def make_features(
    examples: Sequence[Example],
    tokenizer: WordPieceTokenizer,
    max_length: int = 384,
    stride: int = 128,
) -> list[Feature]:
    """Every example as one or more windows "[CLS] question [SEP] context part [SEP]".

    Only the context is cut: each window holds the whole question and up to
    max_length - len(question) - 3 context tokens; neighbouring windows share `stride`
    tokens, so an answer cut by one window boundary lies whole in the next window.
    """
    features = []
    contexts: dict[str, list[Piece]] = {}  # SQuAD asks about five questions per paragraph
    for index, example in enumerate(examples):
        question = tokenizer.pieces(example.question.strip())
        if example.context not in contexts:
            contexts[example.context] = tokenizer.pieces(example.context)
        context = contexts[example.context]
        budget = max_length - len(question) - 3
        if budget <= 0:
            raise ValueError(f"question {example.id} alone fills max_length {max_length}")
        answer_start = example.answer_starts[0] if example.answers else -1
        answer_end = answer_start + len(example.answers[0]) if example.answers else -1
        for begin in window_starts(len(context), budget, stride):
            part = context[begin : begin + budget]
            feature = assemble(index, question, part, tokenizer)
            if answer_start >= 0 and part:
                span = token_span(feature.offsets, feature.context_mask, answer_start, answer_end)
                feature.start_position, feature.end_position = span
            features.append(feature)
    return features


def assemble(
    index: int, question: list[Piece], part: list[Piece], tokenizer: WordPieceTokenizer
) -> Feature:
    cls, sep = (tokenizer.cls_id, (0, 0)), (tokenizer.sep_id, (0, 0))
    tokens = [cls, *((p.id, (0, 0)) for p in question), sep]
    tokens += [(p.id, (p.start, p.end)) for p in part] + [sep]
    n_first = len(question) + 2
    return Feature(
        example_index=index,
        input_ids=[token_id for token_id, _ in tokens],
        token_type_ids=[0] * n_first + [1] * (len(part) + 1),
        attention_mask=[1] * len(tokens),
        offsets=[span for _, span in tokens],
        context_mask=[False] * n_first + [True] * len(part) + [False],
    )


def collate(features: Sequence[Feature], pad_id: int = 0) -> dict[str, Tensor]:
    """A padded batch: input_ids, token_type_ids, attention_mask, start/end positions."""
    length = max(len(f.input_ids) for f in features)

    def padded(name: str) -> Tensor:
        rows = [getattr(f, name) + [0] * (length - len(f.input_ids)) for f in features]
        return torch.tensor(rows, dtype=torch.long)

    ids = padded("input_ids")
    ids[padded("attention_mask") == 0] = pad_id
    return {
        "input_ids": ids,
        "token_type_ids": padded("token_type_ids"),
        "attention_mask": padded("attention_mask"),
        "start_positions": torch.tensor([f.start_position for f in features]),
        "end_positions": torch.tensor([f.end_position for f in features]),
    }


# ---------------------------------------------------------------- the span head


class QAOutput(NamedTuple):
    start_logits: Tensor  # (B, T)
    end_logits: Tensor  # (B, T)
    loss: Tensor | None  # a scalar when start and end positions are given


class BertForQuestionAnswering(nn.Module):
    """BERT with a linear layer to two numbers per token: the start and the end logit."""

    def __init__(self, config: BertConfig, bert: Bert | None = None) -> None:
        super().__init__()
        self.bert = bert if bert is not None else Bert(config, add_pooling_layer=False)
        self.bert.pooler = None  # the span head reads every token, never the pooled [CLS]
        self.qa_outputs = nn.Linear(config.hidden_size, 2)
        nn.init.normal_(self.qa_outputs.weight, 0.0, config.initializer_range)
        nn.init.zeros_(self.qa_outputs.bias)

    @classmethod
    def from_pretrained(
        cls, folder: str | Path, **config_overrides: Any
    ) -> BertForQuestionAnswering:
        """A pretrained encoder with a new, random span head; config_overrides as in
        Bert.from_pretrained (e.g. attention_probs_dropout_prob=0.0)."""
        bert = Bert.from_pretrained(folder, allow_download=False, **config_overrides)
        return cls(bert.config, bert).train()

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        start_positions: Tensor | None = None,
        end_positions: Tensor | None = None,
    ) -> QAOutput:
        hidden = self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state
        start_logits, end_logits = self.qa_outputs(hidden).unbind(-1)  # (B, T) each
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        return QAOutput(start_logits, end_logits, loss)


def span_loss(
    start_logits: Tensor, end_logits: Tensor, start_positions: Tensor, end_positions: Tensor
) -> Tensor:
    """Mean of the start and end cross-entropies over the tokens. As transformers does, a
    position beyond the sequence is clamped to T and ignored."""
    T = start_logits.shape[1]
    starts, ends = start_positions.clamp(0, T), end_positions.clamp(0, T)
    start_loss = F.cross_entropy(start_logits, starts, ignore_index=T)
    end_loss = F.cross_entropy(end_logits, ends, ignore_index=T)
    return (start_loss + end_loss) / 2


# ---------------------------------------------------------------- decoding


@dataclass
class Span:
    text: str
    score: float  # start_logit + end_logit
    start_char: int
    end_char: int
    feature_index: int
    start_token: int
    end_token: int


def best_spans(
    feature_indices: Sequence[int],
    features: Sequence[Feature],
    start_logits: Sequence[Sequence[float]],
    end_logits: Sequence[Sequence[float]],
    context: str,
    n_best: int = 20,
    max_answer_length: int = 30,
) -> list[Span]:
    """The valid spans of one example over all its windows, the best score first.

    In each window, the n_best highest start logits and the n_best highest end logits are
    paired; a pair counts when both tokens are in the context and
    start <= end < start + max_answer_length. Its text is context[start char : end char].
    """
    spans = []
    for f in feature_indices:
        feature, starts, ends = features[f], list(start_logits[f]), list(end_logits[f])
        length = len(feature.input_ids)
        top_starts = sorted(range(length), key=lambda i: -starts[i])[:n_best]
        top_ends = sorted(range(length), key=lambda i: -ends[i])[:n_best]
        for s in top_starts:
            for e in top_ends:
                if not (feature.context_mask[s] and feature.context_mask[e]):
                    continue
                if e < s or e - s + 1 > max_answer_length:
                    continue
                begin, finish = feature.offsets[s][0], feature.offsets[e][1]
                score = float(starts[s] + ends[e])
                spans.append(Span(context[begin:finish], score, begin, finish, f, s, e))
    return sorted(spans, key=lambda span: -span.score)


def predict_answers(
    examples: Sequence[Example],
    features: Sequence[Feature],
    start_logits: Sequence[Sequence[float]],
    end_logits: Sequence[Sequence[float]],
    n_best: int = 20,
    max_answer_length: int = 30,
) -> dict[str, str]:
    """Question id -> the best span's text ("" when no window has a valid span)."""
    by_example: dict[int, list[int]] = {}
    for f, feature in enumerate(features):
        by_example.setdefault(feature.example_index, []).append(f)
    answers = {}
    for index, example in enumerate(examples):
        spans = best_spans(
            by_example.get(index, []),
            features,
            start_logits,
            end_logits,
            example.context,
            n_best,
            max_answer_length,
        )
        answers[example.id] = spans[0].text if spans else ""
    return answers


# ---------------------------------------------------------------- the official metrics

ARTICLES = re.compile(r"\b(a|an|the)\b")
PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, drop ASCII punctuation, drop the articles a/an/the, single spaces."""
    text = "".join(char for char in text.lower() if char not in PUNCTUATION)
    return " ".join(ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def token_f1(prediction: str, truth: str) -> float:
    """F1 of the normalized words, counted as multisets (a repeated word counts twice)."""
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def squad_scores(
    predictions: dict[str, str], references: Iterable[tuple[str, Sequence[str]]]
) -> dict[str, float]:
    """{"exact_match", "f1"} in percent: per question the best over its reference answers,
    averaged over all questions; a question without a prediction scores 0."""
    em = f1 = 0.0
    total = 0
    for question_id, truths in references:
        total += 1
        if question_id not in predictions:
            continue
        prediction = predictions[question_id]
        em += max(exact_match(prediction, truth) for truth in truths)
        f1 += max(token_f1(prediction, truth) for truth in truths)
    if total == 0:
        return {"exact_match": 0.0, "f1": 0.0}
    return {"exact_match": 100.0 * em / total, "f1": 100.0 * f1 / total}


# ---------------------------------------------------------------- fine-tuning


@torch.no_grad()
def predict_logits(
    model: BertForQuestionAnswering, features: Sequence[Feature], batch_size: int = 32
) -> tuple[list[list[float]], list[list[float]]]:
    """Start and end logits of every feature, each cut to the feature's own length."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    starts: list[list[float]] = [[] for _ in features]
    ends: list[list[float]] = [[] for _ in features]
    for chunk in sorted_batches([len(f.input_ids) for f in features], batch_size):
        batch = collate([features[i] for i in chunk])
        out = model(
            batch["input_ids"].to(device),
            batch["attention_mask"].to(device),
            batch["token_type_ids"].to(device),
        )
        for row, i in enumerate(chunk):
            n = len(features[i].input_ids)
            starts[i] = out.start_logits[row, :n].tolist()
            ends[i] = out.end_logits[row, :n].tolist()
    model.train(was_training)
    return starts, ends


def evaluate(
    model: BertForQuestionAnswering,
    examples: Sequence[Example],
    features: Sequence[Feature],
    batch_size: int = 32,
    max_answer_length: int = 30,
) -> tuple[dict[str, float], dict[str, str]]:
    """(EM/F1 scores in percent, question id -> predicted text)."""
    starts, ends = predict_logits(model, features, batch_size)
    predictions = predict_answers(
        examples, features, starts, ends, max_answer_length=max_answer_length
    )
    scores = squad_scores(predictions, ((e.id, e.answers) for e in examples))
    return scores, predictions


def fine_tune(
    model: BertForQuestionAnswering,
    features: Sequence[Feature],
    *,
    epochs: int = 2,
    batch_size: int = 16,
    lr: float = 5e-5,
    warmup: float = 0.1,
    layer_decay: float = 1.0,
    weight_decay: float = 0.01,
    seed: int = 0,
    group_by_length: bool = False,
    on_step: Callable[[int, int, float], Any] | None = None,
    on_epoch: Callable[[int], bool] | None = None,
) -> list[float]:
    """AdamW over shuffled batches, the learning rate warmed up over the first `warmup`
    fraction of the steps, then decayed linearly to 0. Returns the loss of every step.
    group_by_length: batches of windows of similar length (batching.length_grouped_batches),
    for less padding; the same number of steps.

    on_step(step, total_steps, loss) is called after each update; on_epoch(epoch) after each
    epoch, and training stops early when it returns True (e.g. EarlyStopping.step).
    """
    device = next(model.parameters()).device
    groups = layerwise_lr_groups(model, lr, layer_decay, weight_decay)
    for group in groups:
        group.pop("names", None)
        group["initial_lr"] = group["lr"]
    optimizer = torch.optim.AdamW(groups, lr=lr)
    steps_per_epoch = math.ceil(len(features) / batch_size)
    total = steps_per_epoch * epochs
    warmup_steps = round(warmup * total)
    generator = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    model.train()
    lengths = [len(feature.input_ids) for feature in features]
    for epoch in range(epochs):
        for rows in shuffled_batches(lengths, batch_size, generator, group_by_length):
            factor = linear_warmup_decay(len(losses), warmup_steps, total)
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"] * factor
            batch = collate([features[j] for j in rows])
            loss = model(**{name: tensor.to(device) for name, tensor in batch.items()}).loss
            assert loss is not None
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
            if on_step is not None:
                on_step(len(losses), total, losses[-1])
        if on_epoch is not None and on_epoch(epoch):
            break
    return losses
