"""The HTTP API: thin FastAPI adapters over the services."""
