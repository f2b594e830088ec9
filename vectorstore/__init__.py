"""The index: embedders, the document catalog (SQLite) and the Chroma vector store."""
