"""The printable annotated copy: a real PDF with only the granted fields and a QR that
carries the signed copy."""

from __future__ import annotations

import orjson

from tests.documents.pdfcheck import pdf_qr, pdf_text
from tests.sharing.helpers import add_party, grant, world
from wallet import jws
from wallet.keys.models import SigningKey

COPIES = "/share/v1/copies"


async def test_the_pdf_copy_carries_the_annotation_and_a_verifying_qr(client, rt, holder):
    auth, driver = await world(client, rt)
    party, uscc = await add_party(auth, 41, name="沈阳示例物流有限公司")
    gid = (await grant(client, driver.token, uscc, [driver.ref], rt, max_uses=2)).json()["id"]
    body = {"grant": gid, "licence": driver.ref}
    by_query = await party.call("POST", f"{COPIES}?format=pdf", body)
    assert by_query.status_code == 201, by_query.text
    assert by_query.headers["content-type"] == "application/pdf"
    assert by_query.content.startswith(b"%PDF")
    text = pdf_text(by_query.content)
    assert driver.body["face"]["name"] in text
    assert "仅供沈阳示例物流有限公司用于入职核验" in text and gid in text
    face = driver.body["face"]
    for withheld in (face["certificate_number"], face["address"], face["birth_date"]):
        assert withheld not in text
    qr = pdf_qr(by_query.content, "sharing-copy")
    token = jws.decode(qr)
    key = await SigningKey.get(use="copy", status="active")
    assert token.header["typ"] == "rtel-copy"
    assert jws.verify_signature(token, bytes.fromhex(key.public_key), rt.sm2)
    assert set(token.payload["fld"]) == {"name", "qualification_categories"}
    assert face["certificate_number"] not in qr

    raw = orjson.dumps(body)
    headers = party.headers("POST", COPIES, raw) | {"Accept": "application/pdf"}
    by_accept = await client.post(COPIES, content=raw, headers=headers)
    assert by_accept.status_code == 201
    assert by_accept.headers["content-type"] == "application/pdf"
