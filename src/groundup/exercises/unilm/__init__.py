"""Exercise unilm: the packed layout [SOS] S1 [EOS] S2 [EOS] and UniLM's three attention
masks (bidirectional, left-to-right, seq2seq)."""
