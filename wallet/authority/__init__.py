"""Server-to-server clients of the authority API and their request signatures."""
