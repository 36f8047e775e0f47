"""Models built from the groundup building blocks: each one a single file that reads top to bottom."""
