"""Exercise electra: corrupt a masked batch with a generator's samples, and ELECTRA's loss."""
