"""Road-transport e-licence wallet: the domain core (no HTTP)."""
