"""The math of the first steps, written out in NumPy: linear algebra, calculus, probability, optimization."""
