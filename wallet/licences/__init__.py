"""Licences: the catalogue of licence kinds and the licences issued under them."""
