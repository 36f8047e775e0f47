"""Exercise `llama`: three pieces that turn a GPT-2 block into a Llama block.

Write four functions: `rms_norm`, `swiglu`, `repeat_kv` and `gqa_attention` (causal attention
in which several query heads share one key/value head). `groundup check llama` grades them
against groundup.models.llama, whose pieces equal those of Hugging Face's LlamaForCausalLM.

Conventions:
- Features are in the last dimension. Weight matrices have nn.Linear's layout (out, in), so
  a layer without bias computes x @ w.T.
- Attention tensors are (B, heads, T, head_dim). Use only differentiable tensor operations
  (no .detach(), .data or torch.no_grad()): the checks compare gradients too.

DE: Übung `llama`: drei Bausteine, die aus einem GPT-2-Block einen Llama-Block machen.
Schreiben Sie vier Funktionen: `rms_norm`, `swiglu`, `repeat_kv` und `gqa_attention`
(kausale Attention, bei der sich mehrere Query-Köpfe einen Key/Value-Kopf teilen).
`groundup check llama` vergleicht sie mit groundup.models.llama, dessen Bausteine denen von
LlamaForCausalLM aus Hugging Face transformers gleichen. Merkmale liegen in der letzten
Dimension; Gewichtsmatrizen haben das Layout (out, in) von nn.Linear, also x @ w.T.
Attention-Tensoren haben die Form (B, Köpfe, T, head_dim). Nur differenzierbare
Tensor-Operationen verwenden: Die Prüfungen vergleichen auch Gradienten.
"""

from __future__ import annotations

import torch  # noqa: F401 - imported for you: torch.rsqrt, torch.ones, ...
import torch.nn.functional as F  # noqa: F401 - F.silu, F.scaled_dot_product_attention
from torch import Tensor


def rms_norm(x: Tensor, weight: Tensor, eps: float = 1e-6) -> Tensor:
    """RMSNorm over the last dimension: x / sqrt(mean(x^2) + eps) * weight.

    x: (..., C); weight: (C,); returns (..., C). Unlike LayerNorm, no mean is subtracted and
    there is no bias. eps sits INSIDE the square root.

    DE: RMSNorm über die letzte Dimension: x / sqrt(mean(x^2) + eps) * weight. Anders als bei
    LayerNorm wird kein Mittelwert abgezogen, und es gibt keinen Bias. eps steht INNERHALB
    der Wurzel.
    """
    raise NotImplementedError("TODO: rms_norm")


def swiglu(x: Tensor, w_gate: Tensor, w_up: Tensor, w_down: Tensor) -> Tensor:
    """The SwiGLU feed-forward layer without biases: down(silu(gate(x)) * up(x)).

    x: (..., C); w_gate, w_up: (H, C); w_down: (C, H); returns (..., C).
    silu(z) = z * sigmoid(z) (F.silu). The SiLU goes on the gate branch only.

    DE: Die SwiGLU-Feed-Forward-Schicht ohne Bias: down(silu(gate(x)) * up(x)). Die SiLU
    wirkt nur auf den Gate-Zweig.
    """
    raise NotImplementedError("TODO: swiglu")


def repeat_kv(x: Tensor, n_rep: int) -> Tensor:
    """(B, n_kv_head, T, d) -> (B, n_kv_head * n_rep, T, d).

    Every key/value head is copied n_rep times, and the copies sit next to each other:
    output head h is input head h // n_rep (heads [k0, k1] with n_rep 2 -> [k0, k0, k1, k1]),
    as in torch.repeat_interleave along dim 1. n_rep = 1 returns x unchanged.

    DE: Jeder Key/Value-Kopf wird n_rep-mal kopiert, und die Kopien liegen nebeneinander:
    Ausgabekopf h ist Eingabekopf h // n_rep ([k0, k1] mit n_rep 2 -> [k0, k0, k1, k1]).
    """
    raise NotImplementedError("TODO: repeat_kv")


def gqa_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """Causal grouped-query attention.

    q: (B, n_head, T, d); k, v: (B, n_kv_head, T, d) with n_kv_head dividing n_head.
    Query head h uses key/value head h // (n_head // n_kv_head). Returns (B, n_head, T, d):
    softmax(q k^T / sqrt(d) with future keys masked) v, where position t sees keys 0..t.
    Use repeat_kv, then attention as usual (F.scaled_dot_product_attention is allowed).

    DE: Kausale Grouped-Query-Attention. Query-Kopf h nutzt Key/Value-Kopf
    h // (n_head // n_kv_head). Ergebnis: softmax(q k^T / sqrt(d), zukünftige Keys maskiert) v;
    Position t sieht die Keys 0..t. Nutzen Sie repeat_kv und dann gewöhnliche Attention.
    """
    raise NotImplementedError("TODO: gqa_attention")
