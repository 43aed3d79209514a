"""Holder notifications: the subscribe-message ledger and the outbox-driven notifier."""
