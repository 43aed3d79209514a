"""Bulk import: file formats, the reject report, idempotent reruns and the batch path."""

from __future__ import annotations

import asyncio
import copy
import csv
import gc
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from tests.audit.helpers import verify_audit
from tests.factories import committing, version_body
from wallet.audit.models import AuditEntry
from wallet.clock import FixedClock
from wallet.holders.models import Enterprise, Person, Vehicle
from wallet.holders.repository import HolderRepository
from wallet.keys.models import SigningKey
from wallet.licences import importer
from wallet.licences.builders import DOCUMENT_CONTEXT
from wallet.licences.catalogue import get_kind
from wallet.licences.import_files import (
    CSV_COLUMNS,
    ImportFileError,
    RejectReport,
    import_file,
    open_source,
    shown_value,
)
from wallet.licences.importer import import_rows
from wallet.licences.models import Licence, LicenceVersion, OutboxEvent
from wallet.licences.repository import LicenceRepository
from wallet.licences.schemas import StatusIn, VersionIn
from wallet.licences.seal import verify_seal
from wallet.licences.service import Registry
from wallet.licences.status import read_cached_status
from wallet.uow import UnitOfWork, read_only, unit_of_work
from wallet.vault.service import ColumnSealer, VaultKeys

KINDS = ("qualification", "transport_cert", "business_permit", "taxi_driver", "ridehail_transport")


def bodies(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` valid feed bodies over several kinds (two vehicles share an operator)."""
    out = [version_body(KINDS[i % len(KINDS)], seed=seed * 1000 + i) for i in range(n)]
    vehicles = [b for b in out if "holder" in b]
    for b in vehicles[1:2]:
        b["holder"] = dict(vehicles[0]["holder"])
    return out


def second_versions(firsts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Version 2 of each body: a change that renames the holder."""
    later = []
    for body in firsts:
        nxt = copy.deepcopy(body) | {"version": 2, "change_type": "change"}
        if "name" in nxt["face"]:
            nxt["face"]["name"] = "李更名"
        if "operator_name" in nxt["face"]:
            nxt["face"]["operator_name"] = "示例更名运输有限公司"
        later.append(nxt)
    return later


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    with path.open("wb") as f:
        for row in rows:
            f.write(row if isinstance(row, bytes) else orjson.dumps(row))
            f.write(b"\n")
    return path


def csv_cells(body: dict[str, Any]) -> dict[str, str]:
    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return "|".join(value)
        return str(value)

    cells = {
        "kind": body["kind"],
        "version": text(body["version"]),
        "change_type": body.get("change_type", ""),
        "reason": body.get("reason", ""),
        "issuer_uscc": body["issuer"]["uscc"],
        "issuer_division": body["issuer"]["division"],
        "issuer_name": body["issuer"]["name"],
        "holder_uscc": body.get("holder", {}).get("uscc", ""),
        "serial": text(body.get("serial")),
        "issued_at": text(body.get("issued_at")),
    }
    cells |= {f"face.{k}": text(v) for k, v in body["face"].items()}
    return cells


def write_csv(path: Path, rows: list[dict[str, Any]], extra: list[list[str]] = ()) -> Path:
    face = sorted({f"face.{k}" for b in rows for k in b["face"]})
    header = [*CSV_COLUMNS, *face]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for body in rows:
            cells = csv_cells(body)
            writer.writerow([cells.get(c, "") for c in header])
        for raw in extra:
            writer.writerow(raw)
    return path


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def read_report(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


async def counts() -> dict[str, int]:
    return {
        "licences": await Licence.all().count(),
        "versions": await LicenceVersion.all().count(),
        "events": await OutboxEvent.all().count(),
        "audit": await AuditEntry.all().count(),
        "persons": await Person.all().count(),
        "enterprises": await Enterprise.all().count(),
        "vehicles": await Vehicle.all().count(),
    }


async def licence_of(rt, body: dict[str, Any]) -> Licence:
    kind = get_kind(body["kind"])
    number = body["face"][kind.number_field]
    return await Licence.get(kind=kind.code, number_index=rt.registry.builder.number_index(number))


async def check_sealed(rt, licence: Licence, body: dict[str, Any]) -> dict[str, Any]:
    """The version's document matches ``body`` and its seal verifies; the document."""
    async with read_only() as uow:
        view = await rt.registry.version_view(uow, licence, body["version"])
    document = orjson.loads(view.document)
    assert document["id"] == view.identifier == licence.identifier
    assert document["face"] == {k: v for k, v in body["face"].items() if v != ""}
    assert document["ver"] == body["version"] and document["issuer"] == body["issuer"]
    key = await SigningKey.get(kid=view.seal_kid)
    assert verify_seal(view.document.encode(), view.seal, bytes.fromhex(key.public_key), rt.sm2)
    return document


@pytest.fixture
async def keyed(rt):
    await committing(rt.keys.init)(["210000"])
    return rt


async def test_jsonl_import_creates_sealed_licences(keyed, tmp_path):
    rt = keyed
    rows = bodies(12)
    path = write_jsonl(tmp_path / "feed.jsonl", rows)
    stats = await import_file(rt.registry, path, rejects=tmp_path / "r.csv", batch_size=5)
    assert (stats.read, stats.created, stats.unchanged, stats.rejected) == (12, 12, 0, 0)
    assert stats.batches == 3 and stats.row_by_row == 0
    c = await counts()
    assert c["licences"] == c["versions"] == c["events"] == 12
    assert c["audit"] == 3  # one per batch
    assert c["enterprises"] == 2 + 4  # two permit holders, four operators (one shared)
    for body in rows[:5]:
        licence = await licence_of(rt, body)
        document = await check_sealed(rt, licence, body)
        assert licence.identifier.startswith("1.2.156.3005.2." + get_kind(body["kind"]).type_code)
        cached = await read_cached_status(rt.cache, licence.ref)
        assert cached is not None and cached.status == "valid" and cached.version == 1
        if body["kind"] == "qualification":
            assert document["holder"]["code"] == body["face"]["certificate_number"]
            assert licence.number_display != body["face"]["certificate_number"]
            person = await Person.get(id=licence.holder_person_id)
            assert (
                rt.vault.open(person.id_number_sealed, "person.id_number")
                == (body["face"]["certificate_number"])
            )
        if body["kind"] == "transport_cert":
            vehicle = await Vehicle.get(id=licence.vehicle_id)
            owner = await Enterprise.get(id=vehicle.enterprise_id)
            assert vehicle.plate_number == body["face"]["plate_number"]
            assert owner.uscc == body["holder"]["uscc"] and licence.holder_enterprise_id == owner.id
    entries = await AuditEntry.filter(action="licence.import").order_by("id")
    assert [
        (e.detail["first_row"], e.detail["last_row"], e.detail["created"]) for e in entries
    ] == [
        (1, 5, 5),
        (6, 10, 5),
        (11, 12, 2),
    ]
    assert entries[0].subject == "feed.jsonl" and (await verify_audit()).ok
    topics = await OutboxEvent.all().values_list("topic", flat=True)
    assert set(topics) == {"licence.version"}
    keys = await SigningKey.filter(use="seal")
    assert keys[0].signed_until is not None and keys[0].signed_until.year == 2030


async def test_csv_import_matches_the_jsonl_content(keyed, tmp_path):
    rt = keyed
    rows = bodies(10, seed=1)
    rows[0]["reason"] = "首次发证"
    rows[0]["serial"] = "2024000000000123"
    rows[0]["issued_at"] = "2024-03-01T08:00:00+08:00"
    stats = await import_file(rt.registry, write_csv(tmp_path / "feed.csv", rows), batch_size=4)
    assert (stats.created, stats.rejected) == (10, 0)
    for body in rows:
        await check_sealed(rt, await licence_of(rt, body), body)
    first = await licence_of(rt, rows[0])
    assert first.serial == "2024000000000123" and first.identifier.split(".")[-3] == first.serial
    # The same content as JSON Lines is recognised version by version: nothing new.
    again = await import_file(rt.registry, write_jsonl(tmp_path / "feed.jsonl", rows))
    assert (again.created, again.unchanged, again.rejected) == (0, 10, 0)
    qualification = next(b for b in rows if b["kind"] == "qualification")
    async with read_only() as uow:
        view = await rt.registry.version_view(uow, await licence_of(rt, qualification), 1)
    assert view.face["qualification_categories"] == ["经营性道路货物运输驾驶员"]
    vehicle = next(b for b in rows if b["kind"] == "transport_cert")
    async with read_only() as uow:
        view = await rt.registry.version_view(uow, await licence_of(rt, vehicle), 1)
    assert view.face["length_mm"] == 12000 and view.face["tonnage_or_seats"] == "31.5"


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Worker processes even for a few rows; the names of the jobs they were given."""
    submitted: list[str] = []

    class Recorded(importer.ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            submitted.append(fn.__name__)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(importer, "POOL_MIN_ITEMS", 2)
    monkeypatch.setattr(importer, "ProcessPoolExecutor", Recorded)
    return submitted


@pytest.mark.parametrize("workers", [0, 2], ids=["here", "in-workers"])
async def test_bad_rows_are_reported_masked_and_good_rows_apply(keyed, tmp_path, workers, pooled):
    """The same report whether the rows are checked here or in worker processes."""
    rt = keyed
    good = bodies(4, seed=2)
    bad_id = version_body("qualification", seed=21)
    id_number = bad_id["face"]["certificate_number"]
    bad_id["face"]["certificate_number"] = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    clear_id = bad_id["face"]["certificate_number"]
    unknown_kind = version_body("business_permit", seed=22) | {"kind": "spaceship"}
    missing = version_body("taxi_driver", seed=23)
    missing_name = missing["face"].pop("name")
    unknown_field = version_body("business_permit", seed=24)
    unknown_field["face"]["secret_note"] = "张三的手机13812345678"
    lines = [
        good[0],
        bad_id,
        good[1],
        unknown_kind,
        b"{not json",
        missing,
        good[2],
        b"[1, 2]",
        unknown_field,
        good[3],
    ]
    path = write_jsonl(tmp_path / "mixed.jsonl", lines)
    stats = await import_file(
        rt.registry, path, rejects=tmp_path / "r.csv", batch_size=3, workers=workers
    )
    assert (stats.read, stats.created, stats.rejected) == (10, 4, 6)
    assert set(pooled) == ({"_check_chunk", "_seal_chunk"} if workers else set())
    for body in good:
        await licence_of(rt, body)
    assert await Licence.all().count() == 4
    report = read_report(tmp_path / "r.csv")
    got = {(r["row"], r["field"], r["rule"]) for r in report}
    assert got >= {
        ("2", "face.certificate_number", "resident_id.check_digit"),
        ("4", "kind", "enum"),
        ("5", "", "json"),
        ("6", "face.name", "required"),
        ("8", "", "json"),
        ("9", "face.secret_note", "unknown_field"),
    }
    text = text_of(tmp_path / "r.csv")
    assert clear_id not in text and id_number not in text
    assert clear_id[0] + "*" * 16 + clear_id[-1] in text
    assert "13812345678" not in text and "张三" not in text
    assert missing_name not in text
    assert "spaceship" in text  # row metadata is shown
    # Rows that fail only at the batch level never half-apply: the chain is intact.
    assert (await verify_audit()).ok


async def test_bad_csv_rows_and_headers(keyed, tmp_path):
    rt = keyed
    rows = bodies(3, seed=3)
    wrong_value = copy.deepcopy(rows[1])
    wrong_value["face"]["plate_number"] = "not a plate"
    stranger = version_body("qualification", seed=31)
    stranger["face"]["plate_number"] = "辽A12345"  # a column of another kind
    path = write_csv(
        tmp_path / "feed.csv",
        [rows[0], wrong_value, stranger, rows[2]],
        extra=[["qualification", "1", "issue"]],
    )
    report_path = tmp_path / "r.jsonl"
    stats = await import_file(rt.registry, path, rejects=report_path)
    assert (stats.read, stats.created, stats.rejected) == (5, 2, 3)
    report = [orjson.loads(line) for line in report_path.read_bytes().splitlines()]
    got = {(r["row"], r["field"], r["rule"]) for r in report}
    assert {
        (3, "face.plate_number", "plate.length"),
        (4, "face.plate_number", "unknown_field"),
        (6, "", "columns"),
    } <= got
    assert stranger["face"]["certificate_number"] not in text_of(report_path)
    for header in (
        "kind,version,issuer_uscc,issuer_division,issuer_name,face.colour\n",
        "kind,version,issuer_uscc,issuer_division\n",
        "kind,kind,version,issuer_uscc,issuer_division,issuer_name\n",
        "",
    ):
        (tmp_path / "bad.csv").write_text(header, encoding="utf-8")
        with pytest.raises(ImportFileError):
            open_source(tmp_path / "bad.csv")
    with pytest.raises(ImportFileError):
        open_source(tmp_path / "feed.txt")
    with pytest.raises(OSError):
        open_source(tmp_path / "missing.csv")
    assert await Licence.all().count() == 2


async def test_a_line_that_is_not_utf8_stops_the_import_there(keyed, tmp_path):
    rt = keyed
    rows = bodies(6, seed=16)
    path = write_csv(tmp_path / "feed.csv", rows)
    with path.open("ab") as f:
        f.write(b"qualification,1,issue,\xff\xfe\n")
    with pytest.raises(ImportFileError, match="line 8 is not UTF-8"):
        await import_file(rt.registry, path, batch_size=3)
    assert await Licence.all().count() == 6  # the batches before it
    (tmp_path / "bad.csv").write_bytes(b"kind,\xff\n")
    with pytest.raises(ImportFileError, match="line 1 is not UTF-8"):
        open_source(tmp_path / "bad.csv")


async def test_rerun_changes_nothing(keyed, tmp_path):
    rt = keyed
    path = write_jsonl(tmp_path / "feed.jsonl", bodies(9, seed=4))
    first = await import_file(rt.registry, path, batch_size=4)
    before = await counts()
    await rt.cache.flushdb()
    second = await import_file(rt.registry, path, batch_size=4)
    assert (first.created, second.created, second.unchanged, second.rejected) == (9, 0, 9, 0)
    assert await counts() == before
    assert await rt.cache.dbsize() == 0  # nothing was written, not even the cache


async def test_write_time_rejects_leave_the_rest_of_the_batch(keyed, tmp_path):
    rt = keyed
    base = bodies(4, seed=5)
    await import_file(rt.registry, write_jsonl(tmp_path / "a.jsonl", base))
    revoked = await licence_of(rt, base[3])
    async with unit_of_work() as uow:
        await rt.registry.change_status(
            uow, revoked.ref, StatusIn(action="revoke", reason="x"), actor="test"
        )
    conflict = copy.deepcopy(base[0])
    conflict["face"]["issuing_authority"] = "另一个交通运输局"
    renewed = copy.deepcopy(base[1]) | {"version": 3, "change_type": "renewal"}
    older = copy.deepcopy(base[1]) | {"version": 2, "reason": "迟到的副本"}
    after_revoke = copy.deepcopy(base[3]) | {"version": 2, "change_type": "change"}
    no_key = version_body("business_permit", seed=55, division="110101")
    fresh = bodies(3, seed=6)
    rows = [conflict, fresh[0], renewed, older, after_revoke, no_key, fresh[1], base[2], fresh[2]]
    before = await counts()
    stats = await import_file(
        rt.registry,
        write_jsonl(tmp_path / "b.jsonl", rows),
        rejects=tmp_path / "r.csv",
        batch_size=50,
    )
    assert (stats.created, stats.unchanged, stats.rejected, stats.row_by_row) == (4, 1, 4, 0)
    report = {(r["row"], r["field"], r["rule"]) for r in read_report(tmp_path / "r.csv")}
    assert report == {
        ("1", "version", "conflict"),
        ("4", "version", "conflict"),
        ("5", "version", "conflict"),
        ("6", "issuer.division", "not_found"),
    }
    messages = " ".join(r["message"] for r in read_report(tmp_path / "r.csv"))
    assert "older" in messages and "revoked" in messages and "wallet keys init" in messages
    after = await counts()
    assert after["versions"] - before["versions"] == 4
    assert after["events"] - before["events"] == 4
    assert after["audit"] - before["audit"] == 1
    assert (await licence_of(rt, base[1])).version == 3
    assert (await licence_of(rt, base[3])).version == 1


async def test_duplicate_keys_inside_one_batch(keyed, tmp_path):
    rt = keyed
    v1 = version_body("transport_cert", seed=7)
    same = copy.deepcopy(v1)
    other = copy.deepcopy(v1)
    other["face"]["remarks"] = "不同内容"
    v2 = copy.deepcopy(v1) | {"version": 2, "change_type": "annual_review"}
    v2["face"]["valid_until"] = "2030-05-05"
    person = version_body("qualification", seed=8)
    renamed = copy.deepcopy(person) | {"version": 2, "change_type": "change"}
    renamed["face"]["name"] = "王新名"
    rows = [v1, person, same, other, v2, renamed, v1]
    stats = await import_file(
        rt.registry, write_jsonl(tmp_path / "d.jsonl", rows), rejects=tmp_path / "r.csv"
    )
    assert (stats.created, stats.unchanged, stats.rejected, stats.row_by_row) == (4, 2, 1, 0)
    report = {(r["row"], r["rule"]) for r in read_report(tmp_path / "r.csv")}
    assert report == {("4", "conflict")}  # v1 again with other content
    licence = await licence_of(rt, v1)
    assert licence.version == 2 and str(licence.valid_until) == "2030-05-05"
    payloads = (
        await OutboxEvent.filter(licence_ref=licence.ref)
        .order_by("id")
        .values_list("payload", flat=True)
    )
    assert [p["version"] for p in payloads] == [1, 2]
    assert await Vehicle.all().count() == 1 and await Person.all().count() == 1
    holder = await Person.get(id=(await licence_of(rt, person)).holder_person_id)
    assert rt.vault.open(holder.name_sealed, "person.name") == "王新名"
    cached = await read_cached_status(rt.cache, licence.ref)
    assert cached is not None and cached.version == 2


async def test_later_file_supersedes_and_moves_holders(keyed, tmp_path):
    rt = keyed
    first = bodies(5, seed=9)
    await import_file(rt.registry, write_jsonl(tmp_path / "a.jsonl", first))
    later = second_versions(first)
    vehicle = next(b for b in later if b["kind"] == "transport_cert")
    new_owner = version_body("business_permit", seed=99)["face"]["uscc"]
    vehicle["holder"] = {"uscc": new_owner}
    stats = await import_file(rt.registry, write_jsonl(tmp_path / "b.jsonl", later))
    assert (stats.created, stats.rejected, stats.row_by_row) == (5, 0, 0)
    for body in later:
        licence = await licence_of(rt, body)
        assert licence.version == 2 and licence.identifier.split(".")[-2] == "002"
        document = await check_sealed(rt, licence, body)
        assert document["change"] == "change"
        cached = await read_cached_status(rt.cache, licence.ref)
        assert cached is not None and cached.version == 2
        if body["kind"] == "qualification":
            person = await Person.get(id=licence.holder_person_id)
            assert rt.vault.open(person.name_sealed, "person.name") == "李更名"
    moved = await licence_of(rt, vehicle)
    owner = await Enterprise.get(id=moved.holder_enterprise_id)
    assert owner.uscc == new_owner
    assert (await Vehicle.get(id=moved.vehicle_id)).enterprise_id == owner.id
    permit = await licence_of(rt, next(b for b in later if b["kind"] == "business_permit"))
    assert (await Enterprise.get(id=permit.holder_enterprise_id)).name == "示例更名运输有限公司"
    assert await LicenceVersion.all().count() == 10


async def test_failed_batch_is_reapplied_row_by_row(keyed, tmp_path, monkeypatch):
    rt = keyed
    write = importer._Importer._write
    calls = []

    async def failing_write(self, uow, plan, *args):
        calls.append(plan.created)
        await write(self, uow, plan, *args)  # everything written, then the commit fails
        if len(calls) == 1:
            raise IntegrityError("injected")

    monkeypatch.setattr(importer._Importer, "_write", failing_write)
    rows = bodies(7, seed=10)
    conflict = copy.deepcopy(rows[0])
    conflict["face"]["issuing_authority"] = "另一个交通运输局"
    stats = await import_file(
        rt.registry,
        write_jsonl(tmp_path / "f.jsonl", [*rows, conflict]),
        rejects=tmp_path / "r.csv",
        batch_size=4,
    )
    assert calls == [4, 3]
    assert (stats.created, stats.rejected, stats.row_by_row) == (7, 1, 1)
    c = await counts()
    assert c["licences"] == c["versions"] == c["events"] == 7
    actions = await AuditEntry.all().order_by("id").values_list("action", flat=True)
    assert actions == ["licence.issue"] * 4 + ["licence.import"]  # per row, then one batch
    for body in rows:
        await check_sealed(rt, await licence_of(rt, body), body)
    assert {r["rule"] for r in read_report(tmp_path / "r.csv")} == {"conflict"}
    assert (await verify_audit()).ok


async def test_batch_and_per_row_paths_write_the_same(keyed, tmp_path):
    rt = keyed
    clock = FixedClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    registry = Registry(
        rt.vault, rt.keys, rt.sm2, rt.cache, clock, LicenceRepository(), HolderRepository()
    )
    rows = bodies(10, seed=11)

    async def snapshot() -> dict[tuple[str, str], dict[str, Any]]:
        out = {}
        for licence in await Licence.all():
            version = await LicenceVersion.get(licence_id=licence.id)
            event = await OutboxEvent.get(licence_ref=licence.ref)
            holder: Any = None
            if licence.holder_person_id:
                holder = (await Person.get(id=licence.holder_person_id)).id_number_index
            if licence.holder_enterprise_id:
                holder = (await Enterprise.get(id=licence.holder_enterprise_id)).uscc
            if licence.vehicle_id:
                vehicle = await Vehicle.get(id=licence.vehicle_id)
                holder = (holder, vehicle.plate_number, vehicle.plate_colour)
            key = await SigningKey.get(kid=version.seal_kid)
            document = rt.vault.open(version.document_sealed, DOCUMENT_CONTEXT).encode()
            assert verify_seal(document, version.seal, bytes.fromhex(key.public_key), rt.sm2)
            out[(licence.kind, licence.number_index)] = {
                "identifier": licence.identifier,
                "licence": [
                    getattr(licence, f)
                    for f in (
                        "number_display",
                        "serial",
                        "issuer_uscc",
                        "issuer_division",
                        "issuer_name",
                        "status",
                        "version",
                        "valid_from",
                        "valid_until",
                        "created_at",
                        "updated_at",
                    )
                ],
                "version": [
                    getattr(version, f)
                    for f in (
                        "identifier",
                        "change_type",
                        "reason",
                        "authority",
                        "content_digest",
                        "issued_at",
                        "valid_from",
                        "valid_until",
                        "seal_kid",
                        "created_at",
                    )
                ],
                "document": document,
                "holder": holder,
                "event": {k: v for k, v in event.payload.items() if k != "ref"},
            }
        return out

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with in_transaction() as conn:
            uow = UnitOfWork(conn)
            for body in rows:
                await registry.upsert_version(uow, VersionIn.model_validate(body), actor="import")
            per_row = await snapshot()
            raise Rollback
    assert await Licence.all().count() == 0
    stats = await import_file(registry, write_jsonl(tmp_path / "e.jsonl", rows), batch_size=4)
    assert stats.created == 10
    batch = await snapshot()
    assert batch.keys() == per_row.keys() and len(batch) == 10
    for key, expected in per_row.items():
        assert batch[key] == expected


async def test_sealing_in_worker_processes(keyed, tmp_path, pooled):
    rt = keyed
    rows = bodies(6, seed=12)
    stats = await import_file(rt.registry, write_jsonl(tmp_path / "w.jsonl", rows), workers=2)
    assert stats.created == 6 and set(pooled) == {"_check_chunk", "_seal_chunk"}
    for body in rows:
        await check_sealed(rt, await licence_of(rt, body), body)
    column = ColumnSealer("v1", b"c" * 16, DOCUMENT_CONTEXT)
    shown = repr(importer._SealJob("tongsuo", b"k" * 32, [b"the-body"], column))
    assert "kkkk" not in shown and "the-body" not in shown and "cccc" not in shown
    keys = VaultKeys({"v1": b"v" * 16}, "v1", b"i" * 32)
    row = importer.SourceRow(1, {"face": {"name": "张三"}})
    shown = repr(importer._CheckJob(keys, date(2026, 1, 1), [row])) + repr(keys.vault())
    assert "vvvv" not in shown and "iiii" not in shown and "张三" not in shown


def test_shown_values_are_masked():
    body = version_body("qualification", seed=13)
    id_number = body["face"]["certificate_number"]
    assert shown_value(body, "face.certificate_number") == id_number[0] + "*" * 16 + id_number[-1]
    assert shown_value(body, "face.name")[-1] == body["face"]["name"][-1]
    assert "*" in shown_value(body, "face.name")
    assert shown_value(body, "face.sex") == body["face"]["sex"]
    assert shown_value(body, "issuer.uscc") == body["issuer"]["uscc"]
    assert shown_value(body | {"kind": "spaceship"}, "face.name") == "*" * len(body["face"]["name"])
    assert shown_value(body | {"extra": "13812345678"}, "extra") == "*" * 11
    assert shown_value(body, "face") == "" and shown_value(None, "kind") == ""


async def test_rows_from_any_iterable(keyed, tmp_path):
    rt = keyed
    rows = [importer.SourceRow(i + 1, body) for i, body in enumerate(bodies(3, seed=14))]
    seen = []
    collector = gc.get_threshold(), gc.get_freeze_count()
    with RejectReport(None) as report:
        stats = await import_rows(
            rt.registry,
            iter(rows),
            source="memory",
            rejects=report,
            batch_size=2,
            progress=lambda s: seen.append((s.read, gc.get_threshold())),
        )
    thresholds = importer._GC_THRESHOLDS
    assert stats.created == 3 and seen == [(2, thresholds), (3, thresholds)]
    # The importer collects garbage less often while it runs, and as before afterwards.
    assert (gc.get_threshold(), gc.get_freeze_count()) == collector


async def _cli(settings, *args):
    """``wallet ARGS`` in a subprocess."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "WALLET_MASTER_KEY": settings.master_key,
        "WALLET_DATA_DIR": str(settings.data_dir),
        "WALLET_DEPLOYMENT": settings.deployment,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "httpkit.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_cli_end_to_end(keyed, settings, tmp_path):
    rows = bodies(5, seed=15)
    bad = version_body("qualification", seed=151)
    clear = bad["face"]["certificate_number"]
    clear = clear[:-1] + ("0" if clear[-1] != "0" else "1")
    bad["face"]["certificate_number"] = clear
    path = write_csv(tmp_path / "feed.csv", [*rows, bad])
    code, out, err = await _cli(
        settings, "import", str(path), "--batch", "2", "--workers", "0", "--actor", "辽宁省运政系统"
    )
    assert code == 0, err
    assert "read 6, created 5, unchanged 0, rejected 1" in out and "rows/s" in out
    report = read_report(Path(str(path) + ".rejects.csv"))
    assert [(r["row"], r["field"]) for r in report] == [("7", "face.certificate_number")]
    assert clear not in text_of(Path(str(path) + ".rejects.csv"))
    versions = await LicenceVersion.all()
    assert len(versions) == 5 and {v.authority for v in versions} == {"辽宁省运政系统"}
    code, out, _ = await _cli(settings, "import", str(path), "--rejects", str(tmp_path / "r.csv"))
    assert code == 0 and "created 0, unchanged 5, rejected 1" in out
    (tmp_path / "bad.csv").write_text("kind,colour\n", encoding="utf-8")
    code, _, err = await _cli(settings, "import", str(tmp_path / "bad.csv"))
    assert code == 1 and "unknown column 'colour'" in err
    code, _, err = await _cli(settings, "import", str(tmp_path / "nothing.jsonl"))
    assert code == 1 and "cannot read" in err


async def stored_tables(rt) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every column of every table an import writes, keyed by natural keys: random ids and
    refs replaced by the keys they stand for, sealed values opened, seals verified then left
    out (an SM2 signature is randomised)."""
    vault = rt.vault
    persons = {p["id"]: p for p in await Person.all().values()}
    enterprises = {e["id"]: e for e in await Enterprise.all().values()}
    vehicles = {v["id"]: v for v in await Vehicle.all().values()}
    licences = {lic["id"]: lic for lic in await Licence.all().values()}
    person_key = {i: p["id_number_index"] for i, p in persons.items()}
    enterprise_key = {i: e["uscc"] for i, e in enterprises.items()}
    vehicle_key = {i: (v["plate_number"], v["plate_colour"]) for i, v in vehicles.items()}
    licence_key = {i: (lic["kind"], lic["number_index"]) for i, lic in licences.items()}
    by_ref = {lic["ref"]: licence_key[i] for i, lic in licences.items()}
    out: dict[str, dict[Any, dict[str, Any]]] = {}
    out["person"] = {
        p["id_number_index"]: p
        | {
            "id": None,
            "id_number_sealed": vault.open(p["id_number_sealed"], "person.id_number"),
            "name_sealed": vault.open(p["name_sealed"], "person.name"),
        }
        for p in persons.values()
    }
    out["enterprise"] = {
        e["uscc"]: e | {"id": None, "legal_rep_id": person_key.get(e["legal_rep_id"])}
        for e in enterprises.values()
    }
    out["vehicle"] = {
        vehicle_key[i]: v | {"id": None, "enterprise_id": enterprise_key[v["enterprise_id"]]}
        for i, v in vehicles.items()
    }
    out["licence"] = {
        licence_key[i]: lic
        | {
            "id": None,
            "ref": None,
            "holder_person_id": person_key.get(lic["holder_person_id"]),
            "holder_enterprise_id": enterprise_key.get(lic["holder_enterprise_id"]),
            "vehicle_id": vehicle_key.get(lic["vehicle_id"]),
        }
        for i, lic in licences.items()
    }
    keys = {k.kid: bytes.fromhex(k.public_key) for k in await SigningKey.all()}
    out["licence_version"] = {}
    for v in await LicenceVersion.all().values():
        document = vault.open(v["document_sealed"], DOCUMENT_CONTEXT)
        assert verify_seal(document.encode(), v["seal"], keys[v["seal_kid"]], rt.sm2)
        key = (licence_key[v["licence_id"]], v["version"])
        out["licence_version"][key] = v | {
            "id": None,
            "licence_id": None,
            "document_sealed": document,
            "seal": None,
        }
    out["outbox_event"] = {}
    for e in await OutboxEvent.all().values():
        key = (by_ref[e["licence_ref"]], e["payload"]["version"])
        assert e["payload"]["ref"] == e["licence_ref"]
        out["outbox_event"][key] = e | {
            "id": None,
            "licence_ref": None,
            "payload": e["payload"] | {"ref": None},
        }
    return out


async def test_bulk_writes_store_what_the_model_path_stores(keyed, tmp_path):
    """The batch path writes new rows from plain tuples (COPY on PostgreSQL): every stored
    value equals what the per-row path stores through the models, for new licences and
    holders and for later versions that rename holders and move a vehicle."""
    rt = keyed
    clock = FixedClock(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    registry = Registry(
        rt.vault, rt.keys, rt.sm2, rt.cache, clock, LicenceRepository(), HolderRepository()
    )
    first = bodies(15, seed=21)
    first[0]["reason"] = "首次发证"
    first[0]["serial"] = "2024000000000123"
    first[0]["issued_at"] = "2024-03-01T08:00:00+08:00"
    later = second_versions(first[:10])
    vehicle = next(b for b in later if b["kind"] == "transport_cert")
    vehicle["holder"] = {"uscc": version_body("business_permit", seed=98)["face"]["uscc"]}

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback):
        async with in_transaction() as conn:
            uow = UnitOfWork(conn)
            for body in first + later:
                await registry.upsert_version(uow, VersionIn.model_validate(body), actor="import")
            per_row = await stored_tables(rt)
            raise Rollback
    assert await Licence.all().count() == 0
    stats = await import_file(registry, write_jsonl(tmp_path / "a.jsonl", first), batch_size=6)
    assert (stats.created, stats.row_by_row) == (15, 0)
    stats = await import_file(registry, write_jsonl(tmp_path / "b.jsonl", later), batch_size=6)
    assert (stats.created, stats.row_by_row) == (10, 0)
    batch = await stored_tables(rt)
    assert {t: len(rows) for t, rows in batch.items()} == {
        t: len(rows) for t, rows in per_row.items()
    }
    assert len(batch["licence_version"]) == 25
    for table, rows in per_row.items():
        assert batch[table].keys() == rows.keys(), table
        for key, expected in rows.items():
            assert batch[table][key] == expected, (table, key)
