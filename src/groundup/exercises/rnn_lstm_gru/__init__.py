"""Exercise `rnn-lstm-gru`: an LSTM cell, a GRU cell and an LSTM layer with lengths."""
