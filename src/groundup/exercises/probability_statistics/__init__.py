"""Exercise `probability_statistics`: Welch's t-test and the beta-binomial posterior."""
