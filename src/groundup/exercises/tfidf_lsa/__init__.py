"""Exercise tfidf_lsa: TF-IDF weights, cosine similarity and the logistic-regression gradient."""
