"""Claiming (申领, claim) licences: the holder's listing, claims, photo review."""
