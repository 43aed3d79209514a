"""What the aggregation worker reports: the backlog and the outcome of its runs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Backlog", "RunStats"]


class Backlog(BaseModel):
    """The outbox events the ministry has not acknowledged yet.

    ``failed`` counts pending events whose last attempt failed, by reason
    (``http_5xx``, ``http_4xx``, ``timeout``, ``connection``, ``body_error``,
    ``bad_response``, ``no_seal_key``).
    """

    model_config = ConfigDict(frozen=True)

    pending: int = Field(ge=0, description="Events not acknowledged by the ministry")
    oldest_age_seconds: float = Field(
        ge=0, description="Age of the oldest pending event, s (0 without one)"
    )
    failed: dict[str, int] = Field(description="Pending events whose last attempt failed")

    @property
    def failed_total(self) -> int:
        """Pending events whose last attempt failed, whatever the reason."""
        return sum(self.failed.values())


class RunStats(BaseModel):
    """What one or more rounds of a worker did."""

    batches_formed: int = 0
    batches_sent: int = 0
    batches_failed: int = 0
    events_acknowledged: int = 0

    def add(self, other: RunStats) -> None:
        """Add ``other``'s counts to these."""
        self.batches_formed += other.batches_formed
        self.batches_sent += other.batches_sent
        self.batches_failed += other.batches_failed
        self.events_acknowledged += other.events_acknowledged
