"""Listing commands print aligned tables and the same rows as JSON; exit codes 0, 1, 2."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import orjson

from tests.cli_helpers import wallet_many
from tests.factories import committing
from wallet.authority.signing import create_client
from wallet.cli._output import emit, render_table
from wallet.uow import unit_of_work


def columns_of(header: str) -> list[tuple[str, int]]:
    """Each header title and the offset it starts at."""
    return [(m.group(), m.start()) for m in re.finditer(r"\S+", header)]


def assert_aligned(table: str) -> list[dict[str, str]]:
    """Every cell starts under its title; the rows as title → cell."""
    header, *lines = table.rstrip("\n").splitlines()
    titles = columns_of(header)
    rows = []
    for line in lines:
        row = {}
        for (title, start), nxt in zip(titles, [*titles[1:], (None, None)], strict=True):
            cell = line[start : nxt[1]] if nxt[1] is not None else line[start:]
            assert start == 0 or line[start - 1] == " ", (title, line)
            assert cell and not cell.startswith(" "), (title, line)
            row[title] = cell.strip()
        rows.append(row)
    return rows


def test_render_table_aligns_and_spells_values():
    rows = [
        {"name": "a", "on": True, "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "n": None},
        {"name": "longer-name", "on": False, "at": None, "n": 12},
    ]
    table = render_table(rows, ("name", "on", "at", "n"), {"at": "WHEN"})
    parsed = assert_aligned(table)
    assert table.splitlines()[0].split() == ["NAME", "ON", "WHEN", "N"]
    assert parsed == [
        {"NAME": "a", "ON": "yes", "WHEN": "2026-01-02T03:04:05+00:00", "N": "-"},
        {"NAME": "longer-name", "ON": "no", "WHEN": "-", "N": "12"},
    ]
    out = io.StringIO()
    emit(rows, ("name",), as_json=True, out=out)
    assert orjson.loads(out.getvalue())[1] == {
        "name": "longer-name",
        "on": False,
        "at": None,
        "n": 12,
    }
    out = io.StringIO()
    emit([], ("name", "on"), as_json=False, out=out)
    assert out.getvalue() == "NAME  ON\n"


async def test_listings_as_tables_and_json(rt, settings):
    await committing(rt.keys.init)(["210000"])
    async with unit_of_work() as uow:
        for badge, role in (("21010001", "inspector"), ("21010002", "supervisor")):
            await rt.officers.add(
                uow,
                badge=badge,
                name="执法员甲",
                division="210100",
                role=role,
                password="correct horse battery staple",
                device_id=f"ENF-{badge}",
                now=rt.clock.now(),
            )
        client, secret = await create_client(
            uow, rt.vault, name="辽宁省运政系统", division="210000", now=rt.clock.now()
        )
    results = await wallet_many(
        settings,
        ["keys", "list"],
        ["keys", "list", "--json"],
        ["officer", "list"],
        ["officer", "list", "--json"],
        ["authority", "list-clients"],
        ["authority", "list-clients", "--json"],
    )
    assert [r[0] for r in results] == [0] * 6, [r[2] for r in results]
    keys_table, keys_json, officers, officers_json, clients, clients_json = (r[1] for r in results)

    keys = assert_aligned(keys_table)
    listed = orjson.loads(keys_json)
    assert [k["KID"] for k in keys] == [k["kid"] for k in listed] and len(listed) == 4
    assert {k["USE"] for k in keys} == {"root", "presentation", "copy", "seal"}

    rows = assert_aligned(officers)
    assert [(r["BADGE"], r["ROLE"], r["ENABLED"], r["DEVICE"]) for r in rows] == [
        ("21010001", "inspector", "yes", "ENF-21010001"),
        ("21010002", "supervisor", "yes", "ENF-21010002"),
    ]
    as_json = orjson.loads(officers_json)
    assert [o["badge"] for o in as_json] == ["21010001", "21010002"]
    assert as_json[0]["enabled"] is True and as_json[0]["device"] == "ENF-21010001"
    assert "执法员甲" not in officers + officers_json  # names are personal data

    (row,) = assert_aligned(clients)
    assert row["CLIENT_ID"] == client.client_id and row["DIVISION"] == "210000"
    assert row["SM2"] == "no" and row["NAME"] == "辽宁省运政系统"
    (listed_client,) = orjson.loads(clients_json)
    assert listed_client["client_id"] == client.client_id and listed_client["sm2"] is False
    assert secret not in clients + clients_json


async def test_exit_codes(rt, settings):
    ok, failed, usage, unknown, no_json = await wallet_many(
        settings,
        ["officer", "list", "--json"],
        ["officer", "disable", "NO-SUCH-BADGE"],
        ["officer", "list", "--colour"],
        ["no-such-command"],
        ["audit", "verify", "--json"],
    )
    assert ok[0] == 0 and orjson.loads(ok[1]) == []
    assert failed[0] == 1 and failed[2].startswith("wallet: ")
    assert usage[0] == 2 and "unrecognized arguments" in usage[2]
    assert unknown[0] == 2
    assert no_json[0] == 2
