"""The backup drill: seed, back up, restore into a fresh database, verify, serve from it."""

from __future__ import annotations

import asyncio
import shutil
import sys

import orjson
import pytest

from tests.cli_helpers import cli_env, wallet
from tests.conftest import TEST_MASTER_KEY
from tests.factories import committing
from tests.licences.test_import import bodies, write_jsonl
from tests.operating.helpers import FreshDatabase
from wallet.audit.models import AuditEntry, AuditHead
from wallet.keys.models import SigningKey
from wallet.licences.import_files import import_file
from wallet.licences.models import Licence, LicenceVersion
from wallet.licences.schemas import StatusIn
from wallet.operating.backup import sm3_file
from wallet.uow import unit_of_work

PASSWORD = "correct horse battery staple"
BADGE, DEVICE = "21010001", "ENF-DEVICE-0001"


@pytest.fixture
async def fresh(settings, tmp_path):
    databases = FreshDatabase(settings, tmp_path)
    yield databases
    await databases.drop_all()


async def seed(rt, tmp_path) -> dict[str, object]:
    """A province's keys, twelve imported licences (one suspended), an officer, a client."""
    await committing(rt.keys.init)(["210000"])
    stats = await import_file(rt.registry, write_jsonl(tmp_path / "feed.jsonl", bodies(12, 41)))
    assert stats.created == 12
    licences = await Licence.all().order_by("ref")
    async with unit_of_work() as uow:
        await rt.registry.change_status(
            uow, licences[0].ref, StatusIn(action="suspend", reason="测试"), actor="test"
        )
        await rt.officers.add(
            uow,
            badge=BADGE,
            name="执法员甲",
            division="210100",
            role="inspector",
            password=PASSWORD,
            device_id=DEVICE,
            now=rt.clock.now(),
        )
    valid = next(lic for lic in licences[1:] if lic.kind == "qualification")
    return {"valid": valid.ref}


async def test_backup_restore_drill(rt, settings, tmp_path, fresh):
    seeded = await seed(rt, tmp_path)
    out = tmp_path / "backup"
    code, text, err = await wallet(settings, "backup", str(out))
    assert code == 0, err
    assert "the master key is not in it" in text

    manifest = orjson.loads((out / "manifest.json").read_bytes())
    head = await AuditHead.get(id=1)
    assert manifest["audit"] == {"last_id": head.last_id, "last_hash": head.last_hash}
    assert manifest["tables"]["licence_version"] == 12
    assert manifest["tables"]["audit_entry"] == await AuditEntry.all().count()
    assert {k["kid"] for k in manifest["keys"]} == {k.kid for k in await SigningKey.all()}
    snapshot = out / manifest["snapshot"]["file"]
    assert manifest["snapshot"]["sm3"] == sm3_file(snapshot)
    assert snapshot.stat().st_mode & 0o077 == 0
    # The master key is in no file of the backup, neither as hex nor as bytes.
    for path in out.iterdir():
        data = path.read_bytes()
        assert TEST_MASTER_KEY.encode() not in data.lower()
        assert bytes.fromhex(TEST_MASTER_KEY) not in data
    assert sorted(p.name for p in out.iterdir()) == sorted(["manifest.json", snapshot.name])

    target = await fresh.new("restored")
    code, text, err = await wallet(settings, "restore", str(out), env={"DATABASE_URL": target})
    assert code == 0, text + err
    lines = text.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ok", "counts"],
        ["ok", "audit"],
        ["ok", "keys"],
        ["ok", "seals"],
    ]
    assert "all 12 licence versions' seals verify" in text
    assert f"over {head.last_id} entries" in text

    # Only into an empty database.
    code, _, err = await wallet(settings, "restore", str(out), env={"DATABASE_URL": target})
    assert code == 1 and "not empty" in err

    # The restored database serves a verification: officer, keys and registry came back.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.operating.serve_restored",
        str(seeded["valid"]),
        BADGE,
        PASSWORD,
        DEVICE,
        env=cli_env(
            settings,
            DATABASE_URL=target,
            REDIS_URL=None,
            WALLET_DATA_DIR=str(tmp_path / "served"),
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    served, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    report = orjson.loads(served.splitlines()[-1])
    assert report["session"] == 201 and report["status"] == 200
    assert report["verdict"] == "valid"
    assert report["kid"] in {k["kid"] for k in manifest["keys"]}


async def test_a_restore_refuses_what_it_cannot_trust(rt, settings, tmp_path, fresh):
    await seed(rt, tmp_path)
    out = tmp_path / "backup"
    code, _, err = await wallet(settings, "backup", str(out))
    assert code == 0, err
    code, _, err = await wallet(settings, "backup", str(out))
    assert code == 1 and "not an empty directory" in err

    # A snapshot that is not the one the manifest describes: nothing is restored.
    altered = tmp_path / "altered"
    shutil.copytree(out, altered)
    snapshot = altered / orjson.loads((out / "manifest.json").read_bytes())["snapshot"]["file"]
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 0x01
    snapshot.write_bytes(bytes(data))
    target = await fresh.new("altered")
    code, _, err = await wallet(settings, "restore", str(altered), env={"DATABASE_URL": target})
    assert code == 1 and "differs from the one the manifest describes" in err

    # Without the master key nothing is restored (a new key would open nothing).
    code, _, err = await wallet(
        settings,
        "restore",
        str(out),
        env={
            "DATABASE_URL": target,
            "WALLET_MASTER_KEY": None,
            "WALLET_DATA_DIR": str(tmp_path / "empty-var"),
        },
    )
    assert code == 1 and "no master key" in err
    assert not (tmp_path / "empty-var" / "master.key").exists()

    # Another master key: restored, but the keys and seals do not open: exit 1.
    code, text, _ = await wallet(
        settings,
        "restore",
        str(out),
        "--json",
        env={"DATABASE_URL": target, "WALLET_MASTER_KEY": "ab" * 32},
    )
    assert code == 1
    checks = {c["check"]: c for c in orjson.loads(text)}
    assert checks["counts"]["ok"] and checks["audit"]["ok"]
    assert not checks["keys"]["ok"] and "does not open" in checks["keys"]["detail"]
    assert not checks["seals"]["ok"]


async def test_a_broken_seal_fails_the_restore(rt, settings, tmp_path, fresh):
    await seed(rt, tmp_path)
    # A forger swaps in another version's seal (same key): the backup takes it as it is.
    version = await LicenceVersion.all().order_by("id").first()
    other = await LicenceVersion.filter(seal_kid=version.seal_kid).exclude(id=version.id).first()
    await LicenceVersion.filter(id=version.id).update(seal=other.seal)
    out = tmp_path / "backup"
    code, _, err = await wallet(settings, "backup", str(out))
    assert code == 0, err
    target = await fresh.new("forged")
    code, text, _ = await wallet(
        settings, "restore", str(out), "--json", env={"DATABASE_URL": target}
    )
    assert code == 1
    checks = {c["check"]: c for c in orjson.loads(text)}
    assert checks["counts"]["ok"] and checks["keys"]["ok"] and checks["audit"]["ok"]
    assert not checks["seals"]["ok"] and "1 of 12" in checks["seals"]["detail"]
    assert str(version.id) in checks["seals"]["detail"]
