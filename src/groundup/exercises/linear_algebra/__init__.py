"""Exercise linear_algebra: principal component analysis, graded against sklearn."""
