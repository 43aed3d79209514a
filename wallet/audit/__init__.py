"""Append-only audit log, chained by SM3."""
