"""Exercises: per step a stub the learner edits, checks that grade it, and planted-bug mutants.

Each exercise is a package `groundup.exercises.<name>` with
- `stub.py`: the file the learner receives (signatures, docstrings, TODOs);
- `checks.py`: `FUNCTIONS` (names the learner must define), `REFERENCE` (a module source that
  solves the exercise with the library code) and `CHECKS` (a list of `grader.Check`);
- `mutants.py`: `MUTANTS`, wrong solutions, each naming the check that must catch it.
"""
