"""Who may call: API keys with roles."""
