"""Exercise `positional_encodings`: the sinusoidal table, RoPE and ALiBi, graded against the library."""
