"""Exercise `optimizers`: one Adam / AdamW step, checked against torch.optim.Adam and AdamW."""
