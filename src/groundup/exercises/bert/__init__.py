"""Exercise bert: WordPiece's greedy longest match, the 80/10/10 masking rule and the
embedding sum of BERT."""
