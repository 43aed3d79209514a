"""The verdict rule, replayed from its vector file (tests/verification/vectors/verdicts.json).

The file is plain JSON so that an enforcement app in another language can
replay the same rows against its own implementation.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from wallet.licences.status import LiveStatus
from wallet.verification.verdict import ClaimsCheck, CodeCheck, Replay, Verdict, decide

VECTORS = json.loads((Path(__file__).parent / "vectors" / "verdicts.json").read_text("utf-8"))
ROWS = VECTORS["rows"]


def _decide(inputs: dict[str, Any]):
    live = inputs["live"]
    return decide(
        Verdict(inputs["token"]) if inputs["token"] is not None else None,
        token_detail=inputs["token_detail"],
        code=CodeCheck(inputs["code"]),
        replay=Replay(inputs["replay"]),
        version=inputs["version"],
        live=None
        if live is None
        else LiveStatus(
            live["status"],
            live["version"],
            date.fromisoformat(live["valid_until"]) if live["valid_until"] else None,
        ),
        claims=ClaimsCheck(inputs["claims"]),
        today=date.fromisoformat(inputs["today"]),
    )


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_decide_answers_each_row(row):
    decision = _decide(row["inputs"])
    assert {
        "verdict": decision.verdict.value,
        "detail": decision.detail,
        "status_read": decision.status_read,
    } == row["expect"]


def test_the_rows_cover_every_verdict_and_every_check_result():
    answered = {row["expect"]["verdict"] for row in ROWS}
    assert answered == {v.value for v in Verdict}
    for name, values in (("code", CodeCheck), ("replay", Replay), ("claims", ClaimsCheck)):
        assert {row["inputs"][name] for row in ROWS} == {v.value for v in values}, name
    assert len({row["name"] for row in ROWS}) == len(ROWS)


def test_an_input_not_given_never_makes_a_verdict_valid():
    """Each default fails closed: a caller that forgets a check gets no ``valid``."""
    live = LiveStatus("valid", 1, None)
    today = date(2026, 5, 1)
    full = {
        "code": CodeCheck.MATCH,
        "replay": Replay.NO,
        "version": 1,
        "live": live,
        "claims": ClaimsCheck.AGREE,
    }
    assert decide(None, today=today, **full).verdict is Verdict.VALID
    for left_out in ("replay", "version", "live", "claims"):
        given = {k: v for k, v in full.items() if k != left_out}
        assert decide(None, today=today, **given).verdict is Verdict.STATUS_UNAVAILABLE, left_out
