"""Metrics fixtures: the verifier's scene (a province's keys, a licence, an officer)."""

from tests.verification.conftest import scene

__all__ = ["scene"]
