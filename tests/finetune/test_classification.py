"""Sequence classification on BERT: the head against transformers, padding, the fine-tuning loop.

Oracle: transformers' BertForSequenceClassification (small random config, eager attention)
with its weights copied into BertClassifier(pooling="pooler") gives the same logits and loss
(atol 1e-5, float32) and the same gradient for every parameter (atol 1e-6, float64), for
classification (cross-entropy) and regression (one output, MSE), with padded batches.
"""

from __future__ import annotations

import pytest
import torch
import transformers

from groundup.finetune.classification import (
    BertClassifier,
    FineTuneSettings,
    batches,
    encode_texts,
    evaluate,
    fine_tune,
    predict_proba,
)
from groundup.models.bert import Bert, BertConfig, rename, to_our_names
from groundup.text.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer

WORDS = [
    "the",
    "a",
    "film",
    "movie",
    "plot",
    "was",
    "is",
    "good",
    "great",
    "fine",
    "bad",
    "awful",
    "dull",
    "not",
    "very",
    "really",
]


def small_config(num_labels: int) -> dict:
    return {
        "vocab_size": 60,
        "hidden_size": 16,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 24,
        "max_position_embeddings": 32,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "num_labels": num_labels,
    }


def pair(num_labels: int, dtype: torch.dtype) -> tuple[BertClassifier, torch.nn.Module]:
    torch.manual_seed(num_labels)
    config = transformers.BertConfig(**small_config(num_labels))
    config._attn_implementation = "eager"
    theirs = transformers.BertForSequenceClassification(config).to(dtype).eval()
    with torch.no_grad():  # LayerNorms and biases start at 1 and 0: make them count
        for name, p in theirs.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    state = theirs.state_dict()
    bert = Bert(BertConfig.from_dict(config.to_dict()))
    bert.load_state_dict(to_our_names({k: v for k, v in state.items() if k.startswith("bert.")}))
    ours = BertClassifier(bert, num_labels, pooling="pooler").to(dtype)
    ours.classifier.load_state_dict({"weight": state["classifier.weight"],
                                     "bias": state["classifier.bias"]})  # fmt: skip
    return ours.eval(), theirs


def padded_batch(num_labels: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    lengths = torch.tensor([9, 5, 2, 7])
    mask = (torch.arange(9)[None, :] < lengths[:, None]).long()
    ids = torch.randint(1, 60, (4, 9), generator=g) * mask
    if num_labels == 1:
        labels = torch.randn(4, generator=g)
    else:
        labels = torch.randint(0, num_labels, (4,), generator=g)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@pytest.mark.parametrize("num_labels", [2, 3, 1])
def test_matches_transformers_bert_for_sequence_classification(num_labels: int):
    ours, theirs = pair(num_labels, torch.float32)
    batch = padded_batch(num_labels)
    got, want = ours(**batch), theirs(**batch)
    torch.testing.assert_close(got.logits, want.logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(got.loss, want.loss, atol=1e-5, rtol=0)


@pytest.mark.parametrize("num_labels", [2, 1])
def test_matches_transformers_bert_for_sequence_classification_gradients(num_labels: int):
    ours, theirs = pair(num_labels, torch.float64)
    batch = padded_batch(num_labels)
    if num_labels == 1:
        batch["labels"] = batch["labels"].double()
    ours(**batch).loss.backward()
    theirs(**batch).loss.backward()
    their_grads = {name: p.grad for name, p in theirs.named_parameters()}
    checked = 0
    for name, p in ours.named_parameters():
        their_name = name if name.startswith("classifier.") else rename(name, to_ours=False)
        if name.startswith("bert."):
            their_name = "bert." + rename(name.removeprefix("bert."), to_ours=False)
        torch.testing.assert_close(p.grad, their_grads[their_name], atol=1e-6, rtol=0, msg=name)
        checked += 1
    assert checked == len(their_grads)


def test_poolings_differ_and_mean_ignores_padding():
    torch.manual_seed(0)
    bert = Bert(BertConfig(**{k: v for k, v in small_config(2).items() if k != "num_labels"}))
    ids = torch.tensor([[2, 10, 11, 12, 3]])
    padded = torch.tensor([[2, 10, 11, 12, 3, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 0, 0]])
    logits = {}
    for pooling in ("pooler", "cls", "mean"):
        torch.manual_seed(1)
        model = BertClassifier(bert, 2, pooling=pooling).eval()
        short = model(ids).logits
        long = model(padded, attention_mask=mask).logits
        torch.testing.assert_close(short, long, atol=1e-5, rtol=0)
        logits[pooling] = short
    assert not torch.allclose(logits["pooler"], logits["mean"])
    assert not torch.allclose(logits["cls"], logits["mean"])
    with pytest.raises(ValueError):
        BertClassifier(bert, 2, pooling="max")
    with pytest.raises(ValueError):
        BertClassifier(Bert(bert.config, add_pooling_layer=False), 2, pooling="pooler")


# ---------------------------------------------------------------- a toy sentiment task


def toy_tokenizer() -> WordPieceTokenizer:
    return WordPieceTokenizer({t: i for i, t in enumerate([*SPECIAL_TOKENS, *WORDS])})


def toy_task(n: int, seed: int) -> tuple[list[str], list[int]]:
    """Positive or negative adjective, sometimes negated ("not good" is negative)."""
    g = torch.Generator().manual_seed(seed)
    texts, labels = [], []
    positive, negative = ["good", "great", "fine"], ["bad", "awful", "dull"]
    for _ in range(n):
        r = torch.randint(0, 1000, (5,), generator=g).tolist()
        label = r[0] % 2
        word = (positive if label else negative)[r[1] % 3]
        negated = r[2] % 4 == 0
        filler = ["very", "really", ""][r[3] % 3]
        noun = ["film", "movie", "plot"][r[4] % 3]
        texts.append(
            " ".join(x for x in ["the", noun, "was", *["not"] * negated, filler, word] if x)
        )
        labels.append(label ^ negated)
    return texts, labels


def tiny_classifier(tokenizer: WordPieceTokenizer, pooling: str = "mean") -> BertClassifier:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    return BertClassifier(Bert(config), 2, pooling=pooling)


def test_dynamic_padding_and_prediction_order():
    tokenizer = toy_tokenizer()
    texts, labels = toy_task(23, seed=1)
    encodings = encode_texts(tokenizer, texts, max_length=6)
    assert max(len(e) for e in encodings) == 6  # truncated, [CLS] and [SEP] included
    seen = []
    for chosen, batch in batches(encodings, labels, 5, tokenizer.pad_id):
        lengths = [len(encodings[i]) for i in chosen]
        assert batch["input_ids"].shape == (len(chosen), max(lengths))  # its own longest
        assert batch["attention_mask"].sum(1).tolist() == lengths
        assert batch["labels"].tolist() == [labels[i] for i in chosen]
        seen += chosen
    assert sorted(seen) == list(range(23))
    g = torch.Generator().manual_seed(0)
    shuffled = [i for chosen, _ in batches(encodings, labels, 5, 0, True, g) for i in chosen]
    assert sorted(shuffled) == list(range(23)) and shuffled != seen
    grouped = list(batches(encodings, labels, 5, 0, True, g, group_by_length=True))
    assert sorted(i for chosen, _ in grouped for i in chosen) == list(range(23))
    for chosen, batch in grouped:  # each batch is still padded to its own longest row
        assert batch["input_ids"].shape == (len(chosen), max(len(encodings[i]) for i in chosen))
        assert batch["labels"].tolist() == [labels[i] for i in chosen]
    model = tiny_classifier(tokenizer).eval()
    together = predict_proba(model, encodings, tokenizer.pad_id, batch_size=4)
    one_by_one = torch.cat([predict_proba(model, [e], tokenizer.pad_id) for e in encodings])
    torch.testing.assert_close(together, one_by_one, atol=1e-5, rtol=0)
    torch.testing.assert_close(together.sum(1), torch.ones(23))


@pytest.mark.parametrize("group_by_length", [False, True])
def test_fine_tune_learns_and_keeps_the_best_weights(group_by_length: bool):
    tokenizer = toy_tokenizer()
    train_texts, train_labels = toy_task(96, seed=2)
    dev_texts, dev_labels = toy_task(60, seed=3)
    train = (encode_texts(tokenizer, train_texts), train_labels)
    dev = (encode_texts(tokenizer, dev_texts), dev_labels)
    model = tiny_classifier(tokenizer)
    before = evaluate(model, *dev, tokenizer.pad_id)["accuracy"]
    settings = FineTuneSettings(epochs=6, batch_size=16, lr=2e-2, layer_decay=0.8, patience=4,
                                group_by_length=group_by_length)  # fmt: skip
    steps: list[int] = []
    result = fine_tune(
        model, train, dev, tokenizer.pad_id, settings, lambda s, n, loss: steps.append(s)
    )
    # from the majority class (0.6 here) to >= 0.8 in 36 steps (measured 0.85)
    assert before <= 0.6
    assert result.best_accuracy >= 0.8, result.history
    # the returned model holds the best evaluated weights, not the last ones
    assert evaluate(model, *dev, tokenizer.pad_id)["accuracy"] == result.best_accuracy
    assert result.best_accuracy == max(h["accuracy"] for h in result.history)
    assert steps == list(range(1, len(result.losses) + 1)) and len(steps) == 36
    assert sum(result.losses[-6:]) < 0.8 * sum(result.losses[:6])


def test_early_stopping_ends_a_run_that_cannot_improve():
    tokenizer = toy_tokenizer()
    texts, labels = toy_task(40, seed=4)
    data = (encode_texts(tokenizer, texts), labels)
    model = tiny_classifier(tokenizer)
    settings = FineTuneSettings(epochs=10, batch_size=8, lr=0.0, patience=2, evals_per_epoch=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = fine_tune(model, data, data, tokenizer.pad_id, settings)
    assert result.stopped_early
    assert len(result.history) == 3  # the first evaluation, then two without progress
    assert [h["step"] for h in result.history] == [2, 5, 7]  # 5 steps per epoch, 2 evals each
    assert result.best_step == 2
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, before[name])  # lr 0: nothing moved


def test_frozen_encoder_trains_only_the_head():
    tokenizer = toy_tokenizer()
    texts, labels = toy_task(32, seed=5)
    data = (encode_texts(tokenizer, texts), labels)
    model = tiny_classifier(tokenizer)
    for p in model.bert.parameters():
        p.requires_grad_(False)
    encoder_before = {k: v.clone() for k, v in model.bert.state_dict().items()}
    head_before = model.classifier.weight.clone()
    fine_tune(model, data, data, tokenizer.pad_id, FineTuneSettings(epochs=2, lr=1e-2, patience=5))
    for name, value in model.bert.state_dict().items():
        assert torch.equal(value, encoder_before[name]), name
    assert not torch.equal(model.classifier.weight, head_before)
