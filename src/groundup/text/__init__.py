"""Text processing: normalisation, tokenization with offsets, stemming and lemmatisation."""
