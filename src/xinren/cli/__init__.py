"""The `xinren` command line: thin adapters over the services."""
