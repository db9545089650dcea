"""Ingestion: corpus files in, cleaned and chunked passages with dense and sparse vectors in Qdrant."""
