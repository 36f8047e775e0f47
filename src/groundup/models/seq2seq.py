"""A GRU encoder-decoder with attention: Bahdanau et al. 2015 and Luong et al. 2015.

The encoder reads the source x_1..x_S into annotations k_1..k_S (the outputs of a
bidirectional GRU). At each target step the decoder scores every annotation against a query
q, turns the scores into weights with a softmax and takes their weighted sum, the context:

    a_s = softmax_s(score(q, k_s))        c = sum_s a_s k_s

Score functions (q: decoder state, k: annotation; no biases, as in the papers):

    additive  v . tanh(W_q q + W_k k)          Bahdanau et al. 2015, appendix A.1.2
    dot       q . k                            Luong et al. 2015, section 3.1
    general   q . (W k)                        Luong
    concat    v . tanh(W [q; k])               Luong; additive with W = [W_q | W_k]

Two ways to use the context in the decoder:

  bahdanau  the query is the previous state s_{t-1}; the context enters the GRU:
            s_t = GRU([E y_{t-1}; c_t], s_{t-1}),  logits = W_o [s_t; c_t; E y_{t-1}]
  luong     the query is the current state h_t = GRU(x_t, h_{t-1}); then
            h~_t = tanh(W_c [c_t; h_t]),  logits = W_s h~_t
            with input feeding x_t = [E y_{t-1}; h~_{t-1}], else x_t = E y_{t-1}
  none      no attention, the baseline: the context is the encoder's final state h_enc,
            the same vector at every step (Cho et al. 2014; "RNNencdec" in Bahdanau et al.):
            s_t = GRU([E y_{t-1}; h_enc], s_{t-1}),  logits = W_o [s_t; h_enc; E y_{t-1}]
            the bahdanau decoder with c_t replaced by one fixed-size summary of the source

Masks are boolean with True = "may attend" (as in groundup.nn.attention): padded source
positions get a score of -inf, hence a weight of exactly zero. Shapes: batch first.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from groundup.nn.recurrent import GRU, GRUCell, gru_step

SCORES = ("additive", "dot", "general", "concat")
STYLES = ("bahdanau", "luong", "none")

# ---------------------------------------------------------------- attention


def length_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B,) lengths -> (B, max_len) bool, True at the real positions."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class Attention(nn.Module):
    """score(q, k) for all pairs, softmax over the source, weighted sum of the keys.

    forward(query, keys, mask=None) -> (context, weights)
      query  (B, T, query_size) or (B, query_size) for a single step
      keys   (B, S, key_size), the encoder annotations (they are also the values)
      mask   (B, S) bool, True at real source positions
      context (B, T, key_size), weights (B, T, S) (without the T axis for a 2-d query)
    """

    def __init__(
        self, score: str, query_size: int, key_size: int, attention_size: int | None = None
    ) -> None:
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(
                f"dot score needs query_size == key_size, got {query_size}, {key_size}"
            )
        self.score_name = score
        size = attention_size or query_size
        if score == "additive":
            self.w_query = nn.Linear(query_size, size, bias=False)
            self.w_key = nn.Linear(key_size, size, bias=False)
            self.v = nn.Linear(size, 1, bias=False)
        elif score == "general":
            self.w = nn.Linear(key_size, query_size, bias=False)  # W k lands in query space
        elif score == "concat":
            self.w = nn.Linear(query_size + key_size, size, bias=False)
            self.v = nn.Linear(size, 1, bias=False)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """query (B, T, Q), keys (B, S, K) -> (B, T, S) unnormalised scores."""
        if self.score_name == "dot":
            return query @ keys.transpose(1, 2)
        if self.score_name == "general":
            return query @ self.w(keys).transpose(1, 2)
        if self.score_name == "additive":
            # W_k k does not depend on the step: one product per key, broadcast over T
            hidden = torch.tanh(self.w_query(query)[:, :, None] + self.w_key(keys)[:, None])
            return self.v(hidden).squeeze(-1)
        T, S = query.shape[1], keys.shape[1]
        pairs = torch.cat(  # (B, T, S, Q + K): every query next to every key
            [query[:, :, None].expand(-1, -1, S, -1), keys[:, None].expand(-1, T, -1, -1)], -1
        )
        return self.v(torch.tanh(self.w(pairs))).squeeze(-1)

    def forward(
        self, query: Tensor, keys: Tensor, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        single = query.dim() == 2
        if single:
            query = query[:, None]
        scores = self.scores(query, keys)
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        context = weights @ keys
        return (context[:, 0], weights[:, 0]) if single else (context, weights)


# ---------------------------------------------------------------- encoder


class Encoder(nn.Module):
    """Embedding + (bidirectional) GRU with lengths.

    forward(src (B, S) ints, lengths (B,)) -> (annotations (B, S, D*H), final (B, D*H))
    annotations are zero at padding; final holds each direction's state after its last real
    step (forward and backward concatenated), what the decoder starts from."""

    def __init__(
        self, vocab_size: int, embed_size: int, hidden_size: int, bidirectional: bool = True
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.rnn = GRU(embed_size, hidden_size, batch_first=True, bidirectional=bidirectional)
        self.output_size = hidden_size * (2 if bidirectional else 1)

    def forward(self, src: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        annotations, h_n = self.rnn(self.embed(src), lengths=lengths)
        final = torch.cat(list(h_n), dim=-1)  # (D, B, H) -> (B, D*H)
        return annotations, final


# ---------------------------------------------------------------- decoder


class Decoder(nn.Module):
    """A GRU decoder that attends over the encoder annotations.

    step(y_prev, state, keys, mask) -> (logits (B, V), state, weights (B, S)) is one target
    step; state is (s, h~) where h~ is the Luong attentional state (zeros for Bahdanau; for
    style "none" it carries the fixed context h_enc instead).
    forward(tgt_in (B, T), keys, mask, init) -> (logits (B, T, V), weights (B, T, S)) is
    teacher forcing: tgt_in is the target shifted right (starting with BOS).
    Style "none" attends to nothing: its weights are None."""

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        key_size: int,
        style: str = "bahdanau",
        score: str = "additive",
        input_feeding: bool = True,
        init_size: int | None = None,
    ) -> None:
        super().__init__()
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {style!r}")
        self.style, self.hidden_size = style, hidden_size
        self.input_feeding = input_feeding and style == "luong"
        self.embed = nn.Embedding(vocab_size, embed_size)
        if style != "none":
            self.attention = Attention(score, hidden_size, key_size)
        elif init_size not in (None, key_size):
            raise ValueError(
                "style 'none' feeds the encoder's final state as the context: "
                f"init_size must equal key_size, got {init_size}, {key_size}"
            )
        # s_0 = tanh(W_init h_enc), Bahdanau's initialisation from the encoder's final state
        self.init = nn.Linear(init_size or key_size, hidden_size)
        if style in ("bahdanau", "none"):
            self.cell = GRUCell(embed_size + key_size, hidden_size)
            self.out = nn.Linear(hidden_size + key_size + embed_size, vocab_size)
        else:
            feed = hidden_size if self.input_feeding else 0
            self.cell = GRUCell(embed_size + feed, hidden_size)
            self.combine = nn.Linear(key_size + hidden_size, hidden_size, bias=False)  # W_c
            self.out = nn.Linear(hidden_size, vocab_size)  # W_s

    def initial_state(self, init: Tensor) -> tuple[Tensor, Tensor]:
        s = torch.tanh(self.init(init))
        return s, (init if self.style == "none" else torch.zeros_like(s))

    def step(
        self, y_prev: Tensor, state: tuple[Tensor, Tensor], keys: Tensor, mask: Tensor | None
    ) -> tuple[Tensor, tuple[Tensor, Tensor], Tensor | None]:
        s, h_tilde = state
        e = self.embed(y_prev)
        if self.style == "none":
            context = h_tilde  # the encoder's final state, whatever the step
            s = self.cell(torch.cat([e, context], -1), s)
            return self.out(torch.cat([s, context, e], -1)), (s, context), None
        if self.style == "bahdanau":
            context, weights = self.attention(s, keys, mask)  # query: the previous state
            s = self.cell(torch.cat([e, context], -1), s)
            logits = self.out(torch.cat([s, context, e], -1))
            return logits, (s, h_tilde), weights
        x = torch.cat([e, h_tilde], -1) if self.input_feeding else e
        s = self.cell(x, s)
        context, weights = self.attention(s, keys, mask)  # query: the current state
        h_tilde = torch.tanh(self.combine(torch.cat([context, s], -1)))
        return self.out(h_tilde), (s, h_tilde), weights

    def forward(
        self, tgt_in: Tensor, keys: Tensor, mask: Tensor | None, init: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        state = self.initial_state(init)
        if self.style == "luong" and not self.input_feeding:
            return self.parallel_luong(tgt_in, keys, mask, state[0])
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, state, step_weights = self.step(tgt_in[:, t], state, keys, mask)
            logits.append(step_logits)
            weights.append(step_weights)
        if self.style == "none":
            return torch.stack(logits, 1), None
        return torch.stack(logits, 1), torch.stack(weights, 1)

    def parallel_luong(
        self, tgt_in: Tensor, keys: Tensor, mask: Tensor | None, s0: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Without input feeding the states h_t do not depend on attention: run the GRU over
        all steps first, then attend for all T queries in one product."""
        cell = self.cell
        gx = F.linear(self.embed(tgt_in), cell.weight_ih, cell.bias_ih)  # (B, T, 3H) at once
        states, s = [], s0
        for t in range(gx.shape[1]):
            s = gru_step(gx[:, t], s, cell.weight_hh, cell.bias_hh)
            states.append(s)
        h = torch.stack(states, 1)  # (B, T, H)
        context, attn = self.attention(h, keys, mask)
        h_tilde = torch.tanh(self.combine(torch.cat([context, h], -1)))
        return self.out(h_tilde), attn


# ---------------------------------------------------------------- the whole model


class Seq2Seq(nn.Module):
    """Encoder + attentional decoder.

    forward(src, src_lengths, tgt_in) -> (logits (B, T, V), weights (B, T, S))
    greedy(src, src_lengths, bos, max_len, eos=None) -> (tokens (B, L), weights (B, L, S))
    style="none" is the encoder-decoder without attention; its weights are None.
    With score="dot" the decoder state must be as wide as the annotations, so the decoder's
    hidden size becomes the encoder's output size (2 * hidden_size when bidirectional).
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        embed_size: int = 32,
        hidden_size: int = 64,
        style: str = "bahdanau",
        score: str = "additive",
        input_feeding: bool = True,
        bidirectional: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = Encoder(src_vocab, embed_size, hidden_size, bidirectional)
        key_size = self.encoder.output_size
        if score == "dot" and style != "none" and key_size != hidden_size:
            # dot needs equal sizes: give the decoder the annotation width
            hidden_size = key_size
        self.decoder = Decoder(
            tgt_vocab, embed_size, hidden_size, key_size, style, score, input_feeding
        )

    def encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        src_lengths = torch.as_tensor(src_lengths, device=src.device)
        keys, final = self.encoder(src, src_lengths)
        return keys, length_mask(src_lengths, src.shape[1]), final

    def forward(
        self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        keys, mask, final = self.encode(src, src_lengths)
        return self.decoder(tgt_in, keys, mask, final)

    @torch.no_grad()
    def greedy(
        self, src: Tensor, src_lengths: Tensor, bos: int, max_len: int, eos: int | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Feed back the most likely token each step; rows that produced eos keep emitting
        eos. Stops after max_len steps or once every row has produced eos."""
        keys, mask, final = self.encode(src, src_lengths)
        state = self.decoder.initial_state(final)
        y = torch.full((src.shape[0],), bos, dtype=torch.long, device=src.device)
        done = torch.zeros_like(y, dtype=torch.bool)
        tokens, weights = [], []
        for _ in range(max_len):
            logits, state, step_weights = self.decoder.step(y, state, keys, mask)
            y = logits.argmax(-1)
            if eos is not None:
                y = torch.where(done, torch.full_like(y, eos), y)
                done = done | (y == eos)
            tokens.append(y)
            weights.append(step_weights)
            if eos is not None and bool(done.all()):
                break
        if self.decoder.style == "none":
            return torch.stack(tokens, 1), None
        return torch.stack(tokens, 1), torch.stack(weights, 1)
