"""Parley's index: load the corpus, clean it, cut it into passages, embed them and store
them for search. Nothing here knows about chat platforms (the ``bot`` package)."""
