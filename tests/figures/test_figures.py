"""The four rates on a generated registry equal those computed from its plan."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import orjson

from tests.factories import authority
from tests.figures.dataset import expected, generate
from tests.notifications.helpers import run_wallet
from wallet.figures.service import province_rates, rate
from wallet.notifications.messages import CHINA
from wallet.runtime import Runtime
from wallet.settings import Settings
from wallet.uow import read_only

COUNTS = ("valid", "issued", "activated", "acknowledged", "versions", "compliant")


def _check(rows: list[dict[str, object]], want: dict[str, dict[str, int]]) -> None:
    assert {str(r["division"]) for r in rows} == set(want)
    for row in rows:
        counts = want[str(row["division"])]
        assert {k: row[k] for k in COUNTS} == counts, row["division"]
        assert row["issuance_rate"] == rate(counts["issued"], counts["valid"])
        assert row["activation_rate"] == rate(counts["activated"], counts["issued"])
        assert row["compliance_rate"] == rate(counts["compliant"], counts["versions"])
        assert row["aggregation_rate"] == rate(counts["acknowledged"], counts["issued"])


async def test_figures_on_a_generated_registry_match_its_plan(
    client: httpx.AsyncClient, rt: Runtime, settings: Settings
) -> None:
    plans = await generate(rt)
    now = rt.clock.now().astimezone(CHINA)
    want = expected(plans, now.date())
    assert len(plans) == 300 and len(want) == 2 + 3 + 5
    # The data set is mixed enough for every count to matter.
    for province in ("210000", "220000"):
        got = want[province]
        assert 0 < got["issued"] < got["valid"] < 180
        assert 0 < got["activated"] < got["issued"]
        assert 0 < got["acknowledged"] < got["issued"]
        assert 0 < got["compliant"] < got["versions"]

    async with read_only() as uow:
        report = await rt.figures.report(uow)
        city = await rt.figures.report(uow, division="210100")
        county = await rt.figures.report(uow, division="220103")
        long_ago = await rt.figures.report(uow, period="2020")
        this_month = await rt.figures.report(uow, period=now.strftime("%Y-%m"))
        provinces = await province_rates(uow, rt.clock)
    rows = [r.model_dump() for r in report.items]
    _check(rows, want)
    assert [r["division"] for r in rows] == [
        "210000",
        "210100",
        "210102",
        "210103",
        "210200",
        "210202",
        "220000",
        "220100",
        "220102",
        "220103",
    ]
    for row in report.items:
        # A version failing the rules fails at least one of those listed.
        assert sum(row.failures.values()) >= row.versions - row.compliant
    assert report.items[6].failures["seal_trusted"] > 0
    _check(
        [r.model_dump() for r in city.items], {k: want[k] for k in ("210100", "210102", "210103")}
    )
    _check([r.model_dump() for r in county.items], {"220103": want["220103"]})
    assert long_ago.items == []
    _check([r.model_dump() for r in this_month.items], want)
    _check([r.model_dump() for r in provinces], {k: want[k] for k in ("210000", "220000")})

    # The authority API, scoped to the client's province.
    liaoning = await authority(client, rt, division="210000", provinces=("210000", "220000"))
    answer = await liaoning.get("/authority/v1/figures")
    assert answer.status_code == 200, answer.text
    assert answer.json()["division"] == "210000"
    _check(answer.json()["items"], {k: v for k, v in want.items() if k.startswith("21")})
    dalian = await liaoning.get(f"/authority/v1/figures?division=210200&period={now.year}")
    assert dalian.status_code == 200
    _check(dalian.json()["items"], {k: want[k] for k in ("210200", "210202")})

    # The command: a table, JSON and CSV.
    table, as_json, as_csv = await run_wallet(
        settings,
        ["figures"],
        ["figures", "--division", "220000", "--json"],
        ["figures", "--division", "210100", "--csv"],
    )
    assert table[0] == 0, table
    lines = table[1].splitlines()
    assert lines[1].split()[:2] == ["LEVEL", "DIVISION"]
    assert len(lines) == 2 + len(want)
    assert as_json[0] == 0, as_json
    _check(orjson.loads(as_json[1]), {k: v for k, v in want.items() if k.startswith("22")})
    assert as_csv[0] == 0, as_csv
    header, *csv_rows = as_csv[1].splitlines()
    assert header.startswith("level,division,valid,issued")
    assert [r.split(",")[1] for r in csv_rows] == ["210100", "210102", "210103"]


async def test_the_authority_api_refuses_other_divisions_and_bad_input(
    client: httpx.AsyncClient, rt: Runtime, settings: Settings
) -> None:
    shenyang = await authority(client, rt, division="210100")
    own = await shenyang.get("/authority/v1/figures")
    assert own.status_code == 200 and own.json()["items"] == []
    for division in ("210000", "220000", "210200"):
        elsewhere = await shenyang.get(f"/authority/v1/figures?division={division}")
        assert elsewhere.status_code == 403, division
    fullwidth = quote("２１０１００")
    for query in (
        "division=21010",
        f"division={fullwidth}",
        "division=990000",
        "period=2026-13",
        "period=26",
        "period=2026-Q5",
        "period=1989",
        "extra=1",
    ):
        bad = await shenyang.get(f"/authority/v1/figures?{query}")
        assert bad.status_code == 422, (query, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
    unsigned = await client.get("/authority/v1/figures")
    assert unsigned.status_code == 401
    [bad_period, bad_division] = await run_wallet(
        settings, ["figures", "--period", "2026-13"], ["figures", "--division", "21"]
    )
    assert bad_period[0] == 2 and "quarter" in bad_period[2]
    assert bad_division[0] == 2
