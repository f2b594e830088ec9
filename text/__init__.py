"""Text knowledge shared by ingest, retrieval, answering and evaluation: scripts, normalisation,
languages, document codes, dates, tokens, transliteration. Imports nothing of the project."""
