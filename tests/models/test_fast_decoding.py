"""fast_decoding: the compiled one-row products against F.linear, and generation with them
against generation without them and against transformers' generate."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from groundup.models import fast_decoding
from groundup.models.fast_decoding import MatVecLinear, speed_up_decoding
from groundup.models.generation import generate, left_pad
from groundup.models.gpt import GPT, GPTConfig
from groundup.models.llama import Llama, LlamaConfig

# One compiled graph serves every test (torch.compile's cache); they share a worker.
pytestmark = pytest.mark.xdist_group("torch_compile")

TOLERANCE = dict(rtol=1e-5, atol=1e-5)  # float32, only the order of the additions differs


@pytest.fixture
def spy(monkeypatch) -> dict[str, int]:
    """Count the calls that reach the compiled kernels; the threshold is lifted so that small
    test layers take the compiled path too."""
    calls = {"matvec": 0, "matvec_bias": 0}
    matvec, matvec_bias = fast_decoding._compiled_matvec, fast_decoding._compiled_matvec_bias

    def counted_matvec(row, weight):
        calls["matvec"] += 1
        return matvec(row, weight)

    def counted_matvec_bias(row, weight, bias):
        calls["matvec_bias"] += 1
        return matvec_bias(row, weight, bias)

    monkeypatch.setattr(fast_decoding, "_compiled_matvec", counted_matvec)
    monkeypatch.setattr(fast_decoding, "_compiled_matvec_bias", counted_matvec_bias)
    monkeypatch.setattr(fast_decoding, "MIN_WEIGHT_ELEMENTS", 0)
    return calls


def fast_linear(in_features: int, out_features: int, bias: bool) -> tuple[nn.Linear, nn.Linear]:
    plain = nn.Linear(in_features, out_features, bias=bias)
    fast = nn.Linear(in_features, out_features, bias=bias)
    fast.load_state_dict(plain.state_dict())
    fast.__class__ = MatVecLinear
    return plain, fast


# Odd sizes (not multiples of the vector width) and sizes on both sides of each other.
SHAPES = [(64, 64), (300, 1024), (1024, 300), (513, 77), (77, 513), (2, 3)]


@pytest.mark.parametrize("bias", [True, False])
def test_one_row_product_equals_linear(spy, bias):
    torch.manual_seed(0)
    for in_features, out_features in SHAPES:
        plain, fast = fast_linear(in_features, out_features, bias)
        for shape in [(1, in_features), (1, 1, in_features)]:
            x = torch.randn(shape)
            with torch.inference_mode():
                expected, actual = plain(x), fast(x)
            assert actual.shape == expected.shape == (*shape[:-1], out_features)
            torch.testing.assert_close(actual, expected, **TOLERANCE)
    assert spy["matvec_bias" if bias else "matvec"] == 2 * len(SHAPES)
    assert spy["matvec" if bias else "matvec_bias"] == 0


def test_one_kernel_serves_every_shape_without_recompiling(spy):
    fast_decoding.warm_up_kernels()  # compiles for inference tensors, as generate makes them
    warm_up_calls = dict(spy)
    torch.manual_seed(1)
    # More shapes than torch.compile's default limit of 8 recompilations per function: a
    # kernel per shape would hit it and fall back to the slow eager multiply-and-sum.
    with torch._dynamo.config.patch(error_on_recompile=True):
        for size in range(1, 13):
            plain, fast = fast_linear(16 * size + 3, 40 * size + 1, bias=size % 2 == 0)
            with torch.inference_mode():
                x = torch.randn(1, plain.in_features)
                torch.testing.assert_close(fast(x), plain(x), **TOLERANCE)
    assert spy["matvec"] - warm_up_calls["matvec"] == 6
    assert spy["matvec_bias"] - warm_up_calls["matvec_bias"] == 6


def test_batches_training_and_small_weights_take_plain_linear(spy, monkeypatch):
    torch.manual_seed(2)
    plain, fast = fast_linear(48, 40, bias=True)
    rows = torch.randn(3, 48)
    with torch.inference_mode():
        assert torch.equal(fast(rows), plain(rows))  # several rows: F.linear itself
    x = torch.randn(1, 48, requires_grad=True)
    fast(x).square().sum().backward()  # gradients wanted: F.linear, and autograd works
    expected_grad = x.grad.clone()
    x.grad = None
    plain(x).square().sum().backward()
    assert torch.equal(x.grad, expected_grad)
    assert torch.equal(fast.weight.grad, plain.weight.grad)
    assert spy["matvec"] == spy["matvec_bias"] == 0
    monkeypatch.setattr(fast_decoding, "MIN_WEIGHT_ELEMENTS", 48 * 40 + 1)  # just too small
    with torch.inference_mode():
        assert torch.equal(fast(x.detach()), plain(x.detach()))
    assert spy["matvec_bias"] == 0


def tiny_gpt(seed: int) -> GPT:
    torch.manual_seed(seed)
    model = GPT(GPTConfig(vocab_size=40, block_size=64, n_layer=2, n_head=2, n_embd=32)).eval()
    with torch.no_grad():  # larger weights than GPT-2's init: sharper, varied predictions
        for name, p in model.named_parameters():
            if name.endswith("weight") and "ln_" not in name:
                p.normal_(0.0, 0.3)
    return model


def tiny_llama(seed: int) -> Llama:
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=40, hidden_size=32, intermediate_size=48, n_layer=2, n_head=4, n_kv_head=2
    )
    model = Llama(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.endswith("norm.weight"):
                p.normal_(0.0, 0.3)
    return model


def test_speed_up_decoding_swaps_every_linear_in_place_and_keeps_the_weights():
    model = tiny_gpt(seed=3)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    linears = [m for m in model.modules() if type(m) is nn.Linear]
    assert speed_up_decoding(model) is model
    assert all(type(m) is MatVecLinear for m in linears)
    assert not any(type(m) is nn.Linear for m in model.modules())
    assert model.lm_head.weight is model.transformer.wte.weight  # still tied
    assert model.state_dict().keys() == state.keys()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


@pytest.mark.parametrize("make_model", [tiny_gpt, tiny_llama], ids=["gpt", "llama"])
def test_generation_is_unchanged_and_uses_the_kernels(spy, make_model):
    prompts, pad = [[3, 7, 1, 4, 1, 5], [2, 6], [9, 2, 6, 5]], 0
    model, fast = make_model(seed=4), make_model(seed=4)
    speed_up_decoding(fast)
    warm_up_calls = spy["matvec"] + spy["matvec_bias"]
    for rows in (prompts[:1], prompts):  # one row: the kernels; three: F.linear
        input_ids, mask = left_pad(rows, pad)
        expected = generate(model, input_ids, mask, max_new_tokens=15, greedy=True)
        actual = generate(fast, input_ids, mask, max_new_tokens=15, greedy=True)
        assert torch.equal(actual, expected)
    # 14 single-token decode steps of one row through every Linear of the model, and the
    # output layer on the prompt's last position (last_only)
    linears = sum(isinstance(m, nn.Linear) for m in fast.modules())
    assert spy["matvec"] + spy["matvec_bias"] - warm_up_calls == 14 * linears + 1
    # the decode-step logits themselves, not just their argmax
    ids = torch.tensor([prompts[0]])
    with torch.inference_mode():
        expected_logits, _ = model(ids[:, -1:], cache=None)
        actual_logits, _ = fast(ids[:, -1:], cache=None)
    torch.testing.assert_close(actual_logits, expected_logits, **TOLERANCE)


def test_matches_transformers_gpt2_generate(tmp_path):
    from transformers import GPT2LMHeadModel

    model = tiny_gpt(seed=5)
    model.save_pretrained(tmp_path)
    hf = GPT2LMHeadModel.from_pretrained(tmp_path).eval()
    speed_up_decoding(model)
    ids = torch.tensor([[3, 7, 1, 4]])
    ours = generate(model, ids, max_new_tokens=20, greedy=True)
    theirs = hf.generate(
        ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=20
    )
    assert torch.equal(ours, theirs)


def test_a_compiler_failure_is_a_clear_error_at_setup(monkeypatch):
    def broken(*args):
        raise OSError("g++: not found")

    monkeypatch.setattr(fast_decoding, "_compiled_matvec", broken)
    model = tiny_gpt(seed=6)
    with pytest.raises(RuntimeError, match="C\\+\\+ compiler"):
        speed_up_decoding(model)
