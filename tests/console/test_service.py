"""Console users: accounts, Argon2id passwords, sessions and their end, the command line."""

from __future__ import annotations

import orjson
import pytest
import time_machine

from tests.factories import committing
from tests.notifications.helpers import run_wallet
from wallet.console.models import AuthorityUser, ConsoleSession
from wallet.console.service import SESSION_TTL, BadConsoleCredentials, CsrfRefused, csrf_token
from wallet.errors import Conflict, Unauthorized, ValidationFailed

PASSWORD = "reviewer password 2026"


async def _add(rt, username: str = "reviewer.li", **kw):
    args = {"name": "李审核", "division": "210000", "role": "reviewer", "password": PASSWORD}
    return await committing(rt.console.add)(username=username, **{**args, **kw})


async def test_passwords_are_argon2id_and_names_sealed(rt):
    user = await _add(rt)
    stored = await AuthorityUser.get(username="reviewer.li")
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    assert "李审核" not in stored.name_sealed
    assert user.division == "210000"


@pytest.mark.parametrize(
    ("username", "fields", "problem"),
    [
        ("Reviewer", {}, "username"),
        ("rév", {}, "username"),
        ("reviewer.li", {"role": "admin"}, "role"),
        ("reviewer.li", {"password": "short"}, "password"),
    ],
)
async def test_bad_accounts_are_refused(rt, username, fields, problem):
    with pytest.raises(ValidationFailed) as caught:
        await _add(rt, username, **fields)
    assert problem in str(caught.value.errors)
    assert await AuthorityUser.all().count() == 0


async def test_a_username_is_taken_once(rt):
    await _add(rt)
    with pytest.raises(Conflict):
        await _add(rt)


async def test_sessions_are_stored_hashed_and_end_after_their_lifetime(rt):
    await _add(rt)
    start = rt.clock.timestamp()
    with time_machine.travel(start, tick=False):
        token, user = await committing(rt.console.sign_in)("reviewer.li", PASSWORD, "192.0.2.1")
    assert user.actor == "console:reviewer.li"
    [row] = await ConsoleSession.all()
    assert token not in row.token_hash
    with time_machine.travel(start + SESSION_TTL - 5, tick=False):
        assert (await committing(rt.console.session)(token)).username == "reviewer.li"
    with time_machine.travel(start + SESSION_TTL + 1, tick=False), pytest.raises(Unauthorized):
        await committing(rt.console.session)(token)


async def test_a_new_password_ends_every_session(rt):
    await _add(rt)
    token, _ = await committing(rt.console.sign_in)("reviewer.li", PASSWORD, "192.0.2.1")
    await committing(rt.console.reset_password)("reviewer.li", "another password 2026")
    with pytest.raises(Unauthorized):
        await committing(rt.console.session)(token)
    with pytest.raises(BadConsoleCredentials):
        await committing(rt.console.sign_in)("reviewer.li", PASSWORD, "192.0.2.1")


def test_csrf_tokens_belong_to_one_session(rt):
    rt.console.check_csrf("a" * 43, csrf_token("a" * 43))
    for given in (None, "", csrf_token("b" * 43)):
        with pytest.raises(CsrfRefused):
            rt.console.check_csrf("a" * 43, given)


async def test_the_command_line_adds_lists_and_disables_users(rt, settings, monkeypatch):
    monkeypatch.setenv("WALLET_CONSOLE_PASSWORD", PASSWORD)
    add, listed, disabled, bad = await run_wallet(
        settings,
        [
            "authority",
            "add-user",
            "--username",
            "chief.wang",
            "--name",
            "王主管",
            "--division",
            "210100",
            "--role",
            "supervisor",
        ],
        ["authority", "list-users", "--json"],
        ["authority", "disable-user", "chief.wang"],
        ["authority", "add-user", "--username", "x", "--name", "x", "--division", "210100"],
    )
    assert add[0] == 0 and "chief.wang (supervisor, 210100)" in add[1]
    assert PASSWORD not in add[1] + add[2]
    [row] = orjson.loads(listed[1])
    assert row["username"] == "chief.wang" and row["role"] == "supervisor"
    assert "王主管" not in listed[1]
    assert disabled[0] == 0 and "disabled" in disabled[1]
    assert bad[0] == 1
    with pytest.raises(BadConsoleCredentials):
        await committing(rt.console.sign_in)("chief.wang", PASSWORD, "192.0.2.1")
