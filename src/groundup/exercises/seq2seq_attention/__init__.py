"""Exercise `seq2seq-attention`: Bahdanau's additive score, Luong's dot and general scores,
and the masked softmax that turns scores into weights and a context vector."""
