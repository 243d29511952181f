"""Shared pytest set-up: hypothesis runs the same examples on every machine (a red CI is real)."""

from hypothesis import settings

settings.register_profile("book", derandomize=True, deadline=None, database=None,
                          max_examples=30, print_blob=True)
settings.load_profile("book")
