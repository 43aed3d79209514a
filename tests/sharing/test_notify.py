"""Each access is told to the holder by subscribe message, only while a subscription lasts."""

from __future__ import annotations

from tests.holder_helpers import bearer
from tests.sharing.helpers import add_party, grant, world

ACCESS = "licence-access"


async def test_one_message_per_access_and_only_with_a_credit(client, rt, holder, standin):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 51, name="沈阳示例物流有限公司")
    accepted = await client.post(
        "/api/v1/subscriptions", json={"accepted": [ACCESS]}, headers=bearer(driver.token)
    )
    assert accepted.status_code == 204, accepted.text
    gid = (await grant(client, driver.token, uscc, [driver.ref], rt, max_uses=3)).json()["id"]
    body = {"grant": gid, "licence": driver.ref}
    assert (await party.post("/share/v1/copies", body)).status_code == 201
    [message] = standin.state.messages
    assert message["template_id"] == ACCESS
    text = str(message["data"])
    assert "沈阳示例物流有限公司" in text and "入职核验" in text
    assert driver.body["face"]["name"] not in text  # no face value in a message
    # The one credit is spent: the next access is logged but not messaged.
    assert (await party.post("/share/v1/copies", body)).status_code == 201
    assert len(standin.state.messages) == 1
    accesses = await client.get(f"/api/v1/grants/{gid}/accesses", headers=bearer(driver.token))
    assert len(accesses.json()["items"]) == 2
