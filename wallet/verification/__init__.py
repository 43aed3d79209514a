"""Verifying presented licences: the verdict, its checks and the verification log."""
