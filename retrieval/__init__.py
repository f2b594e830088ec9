"""Retrieval: lexical (BM25) and dense search over the index, fused, with a relevance signal."""
