"""Exercise `transformer`: the decoder masks and one decoder layer of the Transformer."""
