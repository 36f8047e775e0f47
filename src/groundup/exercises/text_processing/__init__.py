"""Exercise `text_processing`: a tokenizer with offsets and the first steps of the Porter stemmer."""
