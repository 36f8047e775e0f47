"""The curriculum: the steps file, the lessons and the learner's progress.

Nothing here imports torch: `groundup path` must start fast.
"""
