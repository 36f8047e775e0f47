"""Data without a download (an embedded corpus), readers for plain text, and a registry of
datasets that `groundup data get NAME` fetches and verifies."""
