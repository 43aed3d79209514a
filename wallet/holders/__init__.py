"""Holders of licences: people, enterprises (with their legal representative) and vehicles."""
