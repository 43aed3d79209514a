"""`wallet verify-offline` replays docs/vectors/offline.json: verdicts, unchecked lists, exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from httpkit.cli import main
from tests.verification.conformance import PATH

VECTORS = json.loads(PATH.read_text())
CASES = VECTORS["cases"]
ROOT = VECTORS["root_public_key"]
# A key on the curve that is not the vectors' root: the seal key.
OTHER_ROOT = VECTORS["keys"]["seal"]["public_key"]


@pytest.fixture
def files(tmp_path):
    trust = tmp_path / "trust-list.jws"
    trust.write_text(VECTORS["trust_list"] + "\n")
    status = tmp_path / "status-210000.jws"
    status.write_text(VECTORS["status_list"]["token"])
    return trust, status


def _argv(case, files, *extra):
    trust, status = files
    argv = ["verify-offline", "--root-key", ROOT, "--trust-list", str(trust)]
    if case["with_status_list"]:
        argv += ["--status-list", str(status)]
    return [*argv, "--at", str(case["now"]), *extra, case["qr"]]


@pytest.mark.parametrize("backend", ["tongsuo", "gmssl"])
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_every_vector_gives_its_verdict_and_unchecked_list(case, backend, files, capsys):
    code = main(_argv(case, files, "--json", "--sm2-backend", backend))
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == case["expect"]["verdict"]
    assert result["unchecked"] == case["expect"]["unchecked"]
    assert result["at"] == case["now"]
    assert code == (0 if case["expect"]["verdict"] == "valid" else 1)


def test_the_human_line_names_verdict_licence_unchecked_and_list_age(files, capsys):
    case = CASES[0]
    assert main(_argv(case, files)) == 0
    line = capsys.readouterr().out.strip()
    assert line == (
        "valid  LABCDEFGHIJKLMNOP v2 (D071, 210100)  "
        "unchecked: totp, replay, version, claims  status list 3600 s old"
    )


def test_iso_8601_at_is_the_same_moment_as_unix_seconds(files, capsys):
    case = next(c for c in CASES if c["name"] == "online QR past its exp")
    before = [*_argv(case, files, "--json")]
    before[before.index("--at") + 1] = "2026-11-18T19:06:40+08:00"  # 1795000000: still valid
    main(before)
    assert json.loads(capsys.readouterr().out)["verdict"] == "status_unavailable"
    after = [*_argv(case, files, "--json")]
    after[after.index("--at") + 1] = "2026-11-18T11:08:40Z"  # 1795000120, its case's now
    main(after)
    assert json.loads(capsys.readouterr().out)["verdict"] == "qr_expired"


@pytest.mark.parametrize(
    "at",
    ["2026-11-18T11:06:40", "yesterday", "１７９５０００００"],
    ids=["no offset", "words", "fullwidth"],
)
def test_a_bad_time_is_a_usage_error(at, files, capsys):
    argv = _argv(CASES[0], files)
    argv[argv.index("--at") + 1] = at
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "--at" in capsys.readouterr().err


def test_a_missing_trust_list_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["verify-offline", "--root-key", ROOT, CASES[0]["qr"]])
    assert exc.value.code == 2
    assert "--trust-list" in capsys.readouterr().err


def test_a_trust_list_under_another_root_gives_no_verdict(files, capsys):
    argv = _argv(CASES[0], files, "--json")
    argv[argv.index("--root-key") + 1] = OTHER_ROOT
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "pinned root key" in captured.err


def test_a_forged_status_list_gives_no_verdict(files, capsys):
    _, status = files
    header, payload, signature = VECTORS["status_list"]["token"].split(".")
    status.write_text(f"{header}.{payload}.{signature[::-1]}")
    assert main(_argv(CASES[0], files)) == 2
    assert capsys.readouterr().out == ""


def test_an_unreadable_file_is_a_usage_error(files, tmp_path, capsys):
    argv = _argv(CASES[0], files)
    argv[argv.index("--trust-list") + 1] = str(tmp_path / "absent.jws")
    assert main(argv) == 2
    assert "absent.jws" in capsys.readouterr().err


def test_it_runs_with_no_database_no_cache_and_no_settings(files):
    """DATABASE_URL and REDIS_URL point nowhere (settings that would not even load)."""
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nowhere",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "WALLET_MASTER_KEY": "not-a-key",
    }
    done = subprocess.run(
        [sys.executable, "-m", "httpkit.cli", *_argv(CASES[0], files, "--json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"] == "valid"
