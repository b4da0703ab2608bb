"""The directory's search engine: lexical (BM25) + semantic (local embeddings) ranking.

Pure and in memory: ``actions/directory.py`` feeds it records from the metadata store and
asks it questions; nothing here does I/O beyond loading the embedding model once.
See docs/decisions.md, "Directory search and the AI router".
"""
