"""Named-entity recognition as token classification: tags, entities, sub-words, a head.

NER marks spans of words with a type ("Ada Lovelace" = PER, "London" = LOC). Written as one
tag per word, a span becomes a BIO sequence:

    Ada    Lovelace  visited  London  .
    B-PER  I-PER     O        B-LOC   O

1. Data: the CoNLL column format (one word per line, columns split by spaces or a tab,
   blank lines between sentences, "-DOCSTART-" lines between documents) is read into
   `Sentence`s; `label_column` picks the tag column (CoNLL-2003: word POS chunk NER).
2. Schemes: IOB2 starts every entity with B-; IOB1 (the original CoNLL-2003 files) uses B-
   only where an entity directly follows another of the same type. Both convert losslessly.
3. Evaluation counts whole entities, not tags: an entity is right only if its type, start
   and end all match (Tjong Kim Sang & De Meulder 2003). `entities` reads a tag sequence
   the way conlleval and seqeval's default mode do: a stray I-X after O (or after another
   type) still opens an entity, so IOB1 and IOB2 are read by the same rule. strict=True
   reads IOB2 as seqeval's mode="strict": only B-X opens an entity. `entity_scores` is
   seqeval's precision, recall and F1, micro-averaged and per type.
4. Sub-words: BERT sees WordPiece tokens, so "Lovelace" may become "love ##lace". The tag
   of a word goes on its first sub-token and the rest get -100, which the loss ignores
   (or every sub-token is labelled, continuations of B-X as I-X: `label_all=True`). A
   prediction per word is read back from its first sub-token.
5. The model: BERT, dropout, one linear layer from each token's vector to the tag logits
   (transformers' BertForTokenClassification), trained with cross-entropy over the tokens
   whose label is not -100, by AdamW with warm-up, linear decay and layer-wise rates
   (finetune/schedule.py).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.files import atomic_write_text
from groundup.finetune.batching import cut_into_batches, length_grouped_batches, sorted_batches
from groundup.finetune.schedule import EarlyStopping, layerwise_lr_groups, linear_warmup_decay
from groundup.models.bert import Bert, BertConfig
from groundup.text.wordpiece import Encoding, WordPieceTokenizer

IGNORE = -100  # the label cross-entropy skips (sub-tokens after the first, [CLS], padding)
Scheme = Literal["IOB1", "IOB2"]


@dataclass
class Sentence:
    words: list[str]
    tags: list[str]


# ---------------------------------------------------------------- tags and schemes


def split_tag(tag: str) -> tuple[str, str]:
    """ "B-PER" -> ("B", "PER"); "O" -> ("O", ""). Types may contain '-' ("B-creative-work")."""
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if prefix not in ("B", "I") or not dash or not kind:
        raise ValueError(f"not a BIO tag: {tag!r} (expected O, B-TYPE or I-TYPE)")
    return prefix, kind


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """IOB1 -> IOB2: an I-X that opens an entity (after O or another type) becomes B-X."""
    out, previous = [], ""
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "I" and previous != kind:
            tag = "B-" + kind
        out.append(tag)
        previous = kind
    return out


def iob2_to_iob1(tags: Sequence[str]) -> list[str]:
    """IOB2 -> IOB1: B-X stays B-X only right after a token of type X (two entities touch)."""
    out, previous = [], ""
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "B" and previous != kind:
            tag = "I-" + kind
        out.append(tag)
        previous = kind
    return out


def label_list(sentences: Iterable[Sentence]) -> list[str]:
    """["O", "B-A", "I-A", "B-B", "I-B", ...]: O first, then B and I of each type, sorted.
    So B-tags have odd ids and I = B + 1, the layout of the Hugging Face course."""
    kinds = {split_tag(tag)[1] for s in sentences for tag in s.tags} - {""}
    return ["O"] + [f"{p}-{k}" for k in sorted(kinds) for p in ("B", "I")]


# ---------------------------------------------------------------- CoNLL files


class ConllError(ValueError):
    """A malformed CoNLL file; the message names the file and the line."""


def read_conll(path: str | Path, label_column: int = -1, scheme: Scheme = "IOB2") -> list[Sentence]:
    """Sentences of a CoNLL file: the first column is the word, `label_column` the tag.

    Columns are split by a tab if the line has one (WNUT-17: "word<TAB>tag"), else by spaces
    (CoNLL-2003: "word POS chunk NER"). Blank lines (also ones holding only spaces or a tab)
    end a sentence, "-DOCSTART-" lines are skipped. Every line of a file must have the same
    number of columns. scheme="IOB1" converts the tags to IOB2 as they are read.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConllError(f"{path}: cannot read: {error}") from None
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    width = None

    def close_sentence() -> None:
        if words:
            fixed = iob1_to_iob2(tags) if scheme == "IOB1" else list(tags)
            sentences.append(Sentence(list(words), fixed))
            words.clear()
            tags.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            close_sentence()
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        if columns[0] == "-DOCSTART-":
            close_sentence()
            continue
        width = width or len(columns)
        where = f"{path}:{number}"
        if len(columns) != width:
            raise ConllError(f"{where}: {len(columns)} columns, the file began with {width}")
        if width < 2 or not -width <= label_column < width or label_column in (0, -width):
            raise ConllError(f"{where}: no tag column {label_column} in {width} columns")
        try:
            split_tag(columns[label_column])
        except ValueError as error:
            raise ConllError(f"{where}: {error}") from None
        words.append(columns[0])
        tags.append(columns[label_column])
    close_sentence()
    return sentences


def write_conll(path: str | Path, sentences: Iterable[Sentence]) -> Path:
    """The reverse of read_conll: "word tag" lines, a blank line after each sentence."""
    blocks = [
        "".join(f"{w} {t}\n" for w, t in zip(s.words, s.tags, strict=True)) for s in sentences
    ]
    atomic_write_text(Path(path), "\n".join(blocks))
    return Path(path)


# ---------------------------------------------------------------- entities and scores


class Entity(NamedTuple):
    kind: str
    start: int  # first word
    end: int  # one past the last word


def entities(tags: Sequence[str], strict: bool = False) -> list[Entity]:
    """The entities of one tag sequence.

    Default (conlleval, seqeval's default mode; reads IOB1 and IOB2 alike): an entity opens
    at B-X, and at I-X unless the previous tag is of type X; it runs while I-X follows.
    strict (seqeval mode="strict", scheme=IOB2): only B-X opens an entity; an I-X that does
    not continue one is ignored.
    """
    found: list[Entity] = []
    start, current = None, ""  # the open entity: first word and type ("" = none open)
    for i, tag in enumerate([*tags, "O"]):  # the "O" closes an entity at the end
        prefix, kind = split_tag(tag)
        continues = prefix == "I" and kind == current
        if current and not continues:
            found.append(Entity(current, start, i))
            current = ""
        opens = prefix == "B" or (prefix == "I" and not continues and not strict)
        if opens:
            start, current = i, kind
    return found


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    support: int  # true entities


def prf(correct: int, predicted: int, true: int) -> Scores:
    """Precision, recall, F1 from counts; 0 where a denominator is 0 (as seqeval)."""
    precision = correct / predicted if predicted else 0.0
    recall = correct / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, true)


def entity_scores(
    true_tags: Sequence[Sequence[str]],
    predicted_tags: Sequence[Sequence[str]],
    strict: bool = False,
) -> dict[str, Scores]:
    """Entity-level scores over sentences: {"micro": ..., "LOC": ..., "PER": ...}.

    An entity counts as correct only if the prediction has the same type, start and end in
    the same sentence. Per-type rows cover every type seen in either side, sorted.
    """
    if len(true_tags) != len(predicted_tags):
        raise ValueError(f"{len(true_tags)} true sentences but {len(predicted_tags)} predicted")
    true_set: set[tuple[int, Entity]] = set()
    predicted_set: set[tuple[int, Entity]] = set()
    for n, (true, predicted) in enumerate(zip(true_tags, predicted_tags, strict=True)):
        if len(true) != len(predicted):
            raise ValueError(f"sentence {n}: {len(true)} true tags but {len(predicted)} predicted")
        true_set.update((n, e) for e in entities(true, strict))
        predicted_set.update((n, e) for e in entities(predicted, strict))
    correct = true_set & predicted_set
    scores = {"micro": prf(len(correct), len(predicted_set), len(true_set))}
    for kind in sorted({e.kind for _, e in true_set | predicted_set}):

        def count(found: set[tuple[int, Entity]], kind: str = kind) -> int:
            return sum(e.kind == kind for _, e in found)

        scores[kind] = prf(count(correct), count(predicted_set), count(true_set))
    return scores


# ---------------------------------------------------------------- sub-word alignment


def encode_words(
    tokenizer: WordPieceTokenizer, words: Sequence[str], max_length: int | None = None
) -> tuple[Encoding, list[int | None]]:
    """Tokenize words that are already split (BertTokenizerFast with is_split_into_words=True):
    [CLS] pieces of word 0, pieces of word 1, ... [SEP], truncated to max_length tokens.
    Returns the encoding and word_ids: for each token the index of its word, None for
    [CLS] and [SEP]. A word may yield no token at all (only control characters)."""
    ids: list[int] = []
    word_ids: list[int | None] = []
    for index, word in enumerate(words):
        pieces = tokenizer.pieces(word)
        ids += [p.id for p in pieces]
        word_ids += [index] * len(pieces)
    if max_length is not None:
        ids, word_ids = ids[: max_length - 2], word_ids[: max_length - 2]
    ids = [tokenizer.cls_id, *ids, tokenizer.sep_id]
    word_ids = [None, *word_ids, None]
    encoding = Encoding(
        input_ids=ids,
        token_type_ids=[0] * len(ids),
        attention_mask=[1] * len(ids),
        offsets=[(0, 0)] * len(ids),  # spans into single words carry little here
        tokens=[tokenizer.id_to_token[i] for i in ids],
    )
    return encoding, word_ids


def align_labels(
    tags: Sequence[str],
    word_ids: Sequence[int | None],
    label_to_id: dict[str, int],
    label_all: bool = False,
) -> list[int]:
    """One label id per token: the word's tag on its first sub-token; the other sub-tokens
    get IGNORE, or with label_all the word's tag with B-X turned into I-X (a continuation).
    [CLS], [SEP] (word id None) always get IGNORE."""
    labels, previous = [], None
    for word in word_ids:
        if word is None:
            labels.append(IGNORE)
        elif word != previous:
            labels.append(label_to_id[tags[word]])
        elif label_all:
            prefix, kind = split_tag(tags[word])
            labels.append(label_to_id["I-" + kind if prefix == "B" else tags[word]])
        else:
            labels.append(IGNORE)
        previous = word
    return labels


def word_predictions(
    token_predictions: Sequence[int], word_ids: Sequence[int | None], n_words: int
) -> list[int]:
    """Back from tokens to words: each word takes the prediction of its first sub-token.
    Words without a token (cut by truncation) get id 0, which label_list makes "O"."""
    out: list[int | None] = [None] * n_words
    for prediction, word in zip(token_predictions, word_ids, strict=False):
        if word is not None and out[word] is None:
            out[word] = int(prediction)
    return [0 if p is None else p for p in out]


# ---------------------------------------------------------------- the model


class TokenClassifier(nn.Module):
    """BERT + dropout + a linear layer per token (transformers' BertForTokenClassification)."""

    def __init__(self, config: BertConfig, num_labels: int, dropout: float | None = None) -> None:
        super().__init__()
        self.bert = Bert(config, add_pooling_layer=False)  # tokens, not the [CLS] summary
        self.dropout = nn.Dropout(config.hidden_dropout_prob if dropout is None else dropout)
        self.classifier = nn.Linear(config.hidden_size, num_labels)
        nn.init.normal_(self.classifier.weight, 0.0, config.initializer_range)
        nn.init.zeros_(self.classifier.bias)

    @classmethod
    def from_pretrained(cls, folder: str | Path, num_labels: int) -> TokenClassifier:
        """The pretrained encoder of a BERT folder and a fresh, random head."""
        encoder = Bert.from_pretrained(folder)
        model = cls(encoder.config, num_labels)
        model.bert.load_state_dict(
            {k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}
        )
        return model

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        labels: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """(B, T) ids -> logits (B, T, num_labels) and, given labels (B, T), the mean
        cross-entropy over the tokens whose label is not IGNORE."""
        hidden = self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state
        logits = self.classifier(self.dropout(hidden))
        loss = None
        if labels is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE
            )
        return logits, loss


# ---------------------------------------------------------------- data to tensors


@dataclass
class Encoded:
    """One sentence ready for the model."""

    input_ids: list[int]
    labels: list[int]
    word_ids: list[int | None]
    n_words: int


def encode_sentences(
    sentences: Sequence[Sentence],
    tokenizer: WordPieceTokenizer,
    labels: Sequence[str],
    max_length: int = 128,
    label_all: bool = False,
) -> list[Encoded]:
    label_to_id = {tag: i for i, tag in enumerate(labels)}
    out = []
    for sentence in sentences:
        unknown = [t for t in sentence.tags if t not in label_to_id]
        if unknown:
            raise ValueError(f"tag {unknown[0]!r} is not among the labels {list(labels)}")
        encoding, word_ids = encode_words(tokenizer, sentence.words, max_length)
        ids = align_labels(sentence.tags, word_ids, label_to_id, label_all)
        out.append(Encoded(encoding.input_ids, ids, word_ids, len(sentence.words)))
    return out


def collate(batch: Sequence[Encoded], pad_id: int, device: str = "cpu") -> dict[str, Tensor]:
    """Pad on the right to the longest sentence: ids with pad_id, labels with IGNORE."""
    T = max(len(e.input_ids) for e in batch)
    input_ids = torch.full((len(batch), T), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), T), IGNORE, dtype=torch.long)
    mask = torch.zeros(len(batch), T, dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        input_ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {
        "input_ids": input_ids.to(device),
        "attention_mask": mask.to(device),
        "labels": labels.to(device),
    }


@torch.no_grad()
def predict(
    model: TokenClassifier,
    encoded: Sequence[Encoded],
    labels: Sequence[str],
    pad_id: int,
    batch_size: int = 32,
    device: str = "cpu",
) -> list[list[str]]:
    """Predicted tags per word for each sentence (the argmax at each word's first token)."""
    was_training = model.training
    model.eval()
    out: list[list[str]] = [[] for _ in encoded]
    for chunk in sorted_batches([len(e.input_ids) for e in encoded], batch_size):
        batch = collate([encoded[i] for i in chunk], pad_id, device)
        logits, _ = model(batch["input_ids"], batch["attention_mask"])
        for row, i in enumerate(chunk):
            e = encoded[i]
            best = logits[row, : len(e.input_ids)].argmax(-1).tolist()
            out[i] = [labels[k] for k in word_predictions(best, e.word_ids, e.n_words)]
    model.train(was_training)
    return out


# ---------------------------------------------------------------- fine-tuning


@dataclass
class FitSettings:
    epochs: int = 3
    batch_size: int = 16
    lr: float = 5e-5
    warmup: float = 0.1  # share of the optimizer steps spent warming up
    layer_decay: float = 1.0  # 1: every layer gets lr
    weight_decay: float = 0.01
    patience: int = 2  # epochs without a better dev F1 before stopping
    device: str = "cpu"
    seed: int = 0
    group_by_length: bool = False  # batches of similar length (batching.py): less padding


def fine_tune(
    model: TokenClassifier,
    train: Sequence[Encoded],
    dev: Sequence[Encoded],
    dev_tags: Sequence[Sequence[str]],
    labels: Sequence[str],
    pad_id: int,
    settings: FitSettings,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> dict[str, list[float]]:
    """AdamW with warm-up and linear decay, layer-wise rates, dev F1 after each epoch and
    early stopping; the weights of the best epoch are restored at the end.

    on_step(step, total_steps, loss) and on_epoch(epoch, dev_f1) report progress. Returns
    the history: "loss" per step, "dev_f1" per epoch.
    """
    groups = layerwise_lr_groups(model, settings.lr, settings.layer_decay, settings.weight_decay)
    optimizer = torch.optim.AdamW([{k: v for k, v in g.items() if k != "names"} for g in groups])
    peak = [g["lr"] for g in optimizer.param_groups]
    per_epoch = math.ceil(len(train) / settings.batch_size)
    total = per_epoch * settings.epochs
    warmup = int(settings.warmup * total)
    stopper = EarlyStopping(settings.patience, mode="max")
    best_state = None
    history: dict[str, list[float]] = {"loss": [], "dev_f1": []}
    order = list(range(len(train)))
    rng = random.Random(settings.seed)
    lengths = [len(sentence.input_ids) for sentence in train]
    generator = torch.Generator().manual_seed(settings.seed)
    step = 0
    model.train()
    for epoch in range(settings.epochs):
        if settings.group_by_length:
            batches = length_grouped_batches(lengths, settings.batch_size, generator)
        else:
            rng.shuffle(order)
            batches = cut_into_batches(order, settings.batch_size)
        for rows in batches:
            batch = collate([train[i] for i in rows], pad_id, settings.device)
            factor = linear_warmup_decay(step, warmup, total)
            for group, lr in zip(optimizer.param_groups, peak, strict=True):
                group["lr"] = lr * factor
            _, loss = model(batch["input_ids"], batch["attention_mask"], labels=batch["labels"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            history["loss"].append(loss.item())
            if on_step:
                on_step(step, total, loss.item())
        predicted = predict(model, dev, labels, pad_id, device=settings.device)
        f1 = entity_scores(dev_tags, predicted)["micro"].f1
        history["dev_f1"].append(f1)
        if on_epoch:
            on_epoch(epoch, f1)
        stop = stopper.step(f1)
        if stopper.improved:
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if stop:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
