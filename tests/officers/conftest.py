"""The verifier's fixtures (a province's keys, a licence, a signed-in officer), shared here."""

from tests.verification.conftest import scene

__all__ = ["scene"]
