"""The Sambruk assistant: settings, retrieval, grounded answers and the HTTP API."""
