"""Presenting a licence (亮证, showing): dynamic QR tokens, offline credentials and codes."""
