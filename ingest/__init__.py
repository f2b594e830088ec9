"""Ingest: extract text from documents, normalise it, find codes and dates, chunk, index."""
