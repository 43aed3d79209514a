import base64
import dataclasses

import orjson
import pytest

from wallet import jws
from wallet.crypto import sm2_backend
from wallet.errors import MalformedKey, WalletError
from wallet.jws import MalformedToken, decode, encode, verify_signature

BACKENDS = ("tongsuo", "gmssl")

# Pinned vector: the GB/T 32918.5 example private key, a fixed header and payload.
PINNED_PRIVATE_KEY = bytes.fromhex(
    "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
)
PINNED_PUBLIC_KEY = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
PINNED_HEADER = {"typ": "rtel-qr", "kid": "pres-0a1b2c3d"}  # encode reorders: alg, kid, typ
PINNED_PAYLOAD = {
    "lic": "L7Q2",
    "knd": "rtc",
    "iss": "210000",
    "ver": 2,
    "iat": 1795000000,
    "exp": 1795000060,
    "jti": "n0nce",
}
PINNED_HEADER_SEGMENT = "eyJhbGciOiJTTTIiLCJraWQiOiJwcmVzLTBhMWIyYzNkIiwidHlwIjoicnRlbC1xciJ9"
PINNED_PAYLOAD_SEGMENT = (
    "eyJsaWMiOiJMN1EyIiwia25kIjoicnRjIiwiaXNzIjoiMjEwMDAwIiwidmVyIjoyLCJpYXQiOjE3OTUwMDAwMDAs"
    "ImV4cCI6MTc5NTAwMDA2MCwianRpIjoibjBuY2UifQ"
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def tongsuo():
    return sm2_backend("tongsuo")


@pytest.fixture(scope="module")
def key_pair(tongsuo):
    private_key = tongsuo.generate_private_key()
    return private_key, tongsuo.public_key(private_key)


@pytest.fixture(scope="module")
def token(tongsuo, key_pair):
    return encode({"kid": "k1", "typ": "rtel-qr"}, {"lic": "abc", "exp": 60}, key_pair[0], tongsuo)


def test_malformed_token_is_a_wallet_error():
    assert issubclass(MalformedToken, WalletError)
    assert MalformedToken.type_code == "malformed_token" and MalformedToken.status == 400


@pytest.mark.parametrize("name", BACKENDS)
def test_round_trip(name):
    backend = sm2_backend(name)
    private_key = backend.generate_private_key()
    token = encode(
        {"kid": "seal-210000-0a0b0c0d", "typ": "rtel-qr"},
        {"lic": "x", "n": 1, "名": "张三"},
        private_key,
        backend,
    )
    decoded = decode(token)
    assert decoded.header == {"alg": "SM2", "kid": "seal-210000-0a0b0c0d", "typ": "rtel-qr"}
    assert decoded.payload == {"lic": "x", "n": 1, "名": "张三"}
    assert decoded.kid == "seal-210000-0a0b0c0d"
    assert decoded.signing_input == token.rpartition(".")[0].encode()
    assert len(decoded.signature) == 64
    assert verify_signature(decoded, backend.public_key(private_key), backend)


@pytest.mark.parametrize(("signer", "verifier"), [("tongsuo", "gmssl"), ("gmssl", "tongsuo")])
def test_cross_backend_verification(signer, verifier):
    sign_with, verify_with = sm2_backend(signer), sm2_backend(verifier)
    private_key = sign_with.generate_private_key()
    token = encode({"kid": "k", "typ": "t"}, {"a": 1}, private_key, sign_with)
    assert verify_signature(decode(token), sign_with.public_key(private_key), verify_with)


def test_pinned_vector(tongsuo):
    token = encode(PINNED_HEADER, PINNED_PAYLOAD, PINNED_PRIVATE_KEY, tongsuo)
    header_segment, payload_segment, signature_segment = token.split(".")
    assert header_segment == PINNED_HEADER_SEGMENT
    assert payload_segment == PINNED_PAYLOAD_SEGMENT
    assert base64.urlsafe_b64decode(header_segment + "==") == (
        b'{"alg":"SM2","kid":"pres-0a1b2c3d","typ":"rtel-qr"}'
    )
    assert base64.urlsafe_b64decode(payload_segment + "==") == (
        b'{"lic":"L7Q2","knd":"rtc","iss":"210000","ver":2,"iat":1795000000,'
        b'"exp":1795000060,"jti":"n0nce"}'
    )
    decoded = decode(token)
    assert decoded.signing_input == f"{PINNED_HEADER_SEGMENT}.{PINNED_PAYLOAD_SEGMENT}".encode()
    assert len(signature_segment) == 86
    assert tongsuo.public_key(PINNED_PRIVATE_KEY) == PINNED_PUBLIC_KEY
    for name in BACKENDS:
        assert verify_signature(decoded, PINNED_PUBLIC_KEY, sm2_backend(name))


def test_header_order_and_extra_members(tongsuo, key_pair):
    token = encode({"x5": 1, "typ": "t", "kid": "k", "alg": "SM2"}, {}, key_pair[0], tongsuo)
    header = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert header == b'{"alg":"SM2","kid":"k","typ":"t","x5":1}'


@pytest.mark.parametrize(
    "header",
    [{"typ": "t"}, {"kid": ""}, {"kid": 7}, {"kid": "k", "alg": "ES256"}, {"kid": "k", "crit": []}],
)
def test_encode_refuses_headers_it_could_not_decode(tongsuo, key_pair, header):
    with pytest.raises(ValueError):
        encode(header, {}, key_pair[0], tongsuo)


def test_encode_refuses_overlong_tokens(tongsuo, key_pair):
    with pytest.raises(ValueError):
        encode({"kid": "k"}, {"pad": "x" * jws.MAX_TOKEN_LENGTH}, key_pair[0], tongsuo)


def _segments(token):
    return token.split(".")


def _with_header(token, header_bytes):
    _, payload, signature = _segments(token)
    return f"{b64(header_bytes)}.{payload}.{signature}"


def _with_payload(token, payload_bytes):
    header, _, signature = _segments(token)
    return f"{header}.{b64(payload_bytes)}.{signature}"


MALFORMED = {
    "two parts": lambda t: t.rpartition(".")[0],
    "four parts": lambda t: t + ".AAAA",
    "empty payload": lambda t: f"{_segments(t)[0]}..{_segments(t)[2]}",
    "empty signature": lambda t: t.rpartition(".")[0] + ".",
    "padding": lambda t: t + "==",
    "standard alphabet": lambda t: t.replace("-", "+").replace("_", "/") + "+/",
    "whitespace": lambda t: t[:10] + " " + t[10:],
    "trailing newline": lambda t: t + "\n",
    "non-ascii": lambda t: t[:10] + "é" + t[10:],
    "length 1 mod 4": lambda t: t + "A" * (5 - len(_segments(t)[2]) % 4),
    "non-canonical last char": lambda t: t[:-1] + {"A": "B", "Q": "R", "g": "h", "w": "x"}[t[-1]],
    "header not json": lambda t: _with_header(t, b"{alg:SM2}"),
    "header not object": lambda t: _with_header(t, b'["SM2"]'),
    "payload not json": lambda t: _with_payload(t, b"\xff\xfe"),
    "payload not object": lambda t: _with_payload(t, b"42"),
    "alg missing": lambda t: _with_header(t, b'{"kid":"k1","typ":"rtel-qr"}'),
    "alg none": lambda t: _with_header(t, b'{"alg":"none","kid":"k1"}'),
    "alg lower case": lambda t: _with_header(t, b'{"alg":"sm2","kid":"k1"}'),
    "kid missing": lambda t: _with_header(t, b'{"alg":"SM2","typ":"rtel-qr"}'),
    "kid not string": lambda t: _with_header(t, b'{"alg":"SM2","kid":1}'),
    "kid empty": lambda t: _with_header(t, b'{"alg":"SM2","kid":""}'),
    "typ not string": lambda t: _with_header(t, b'{"alg":"SM2","kid":"k1","typ":1}'),
    "crit": lambda t: _with_header(t, b'{"alg":"SM2","kid":"k1","crit":["exp"]}'),
    "signature 63 bytes": lambda t: t.rpartition(".")[0] + "." + b64(bytes(63)),
    "signature 65 bytes": lambda t: t.rpartition(".")[0] + "." + b64(bytes(65)),
    "too long": lambda t: _with_payload(t, orjson.dumps({"pad": "x" * jws.MAX_TOKEN_LENGTH})),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_tokens_are_rejected(token, case):
    bad = MALFORMED[case](token)
    assert bad != token
    with pytest.raises(MalformedToken):
        decode(bad)


@pytest.mark.parametrize("value", [None, b"a.b.c", 12, ""])
def test_non_tokens_are_rejected(value):
    with pytest.raises(MalformedToken):
        decode(value)


def test_max_length_is_inclusive(tongsuo, key_pair):
    base = encode({"kid": "k"}, {"p": ""}, key_pair[0], tongsuo)
    # each 3 payload bytes add 4 characters: grow the payload to land exactly on the limit
    room = jws.MAX_TOKEN_LENGTH - len(base)
    filler = "x" * (room // 4 * 3)
    token = encode({"kid": "k"}, {"p": filler}, key_pair[0], tongsuo)
    assert len(token) <= jws.MAX_TOKEN_LENGTH
    decode(token)


def test_error_message_does_not_echo_the_token(token):
    with pytest.raises(MalformedToken) as info:
        decode(token + ".x")
    assert token[:20] not in str(info.value)


def test_tampered_payload_does_not_verify(token, key_pair, tongsuo):
    tampered = _with_payload(token, b'{"lic":"abd","exp":60}')
    assert verify_signature(decode(tampered), key_pair[1], tongsuo) is False


def test_tampered_header_does_not_verify(token, key_pair, tongsuo):
    tampered = _with_header(token, b'{"alg":"SM2","kid":"k2","typ":"rtel-qr"}')
    assert verify_signature(decode(tampered), key_pair[1], tongsuo) is False


def test_tampered_signature_does_not_verify(token, key_pair, tongsuo):
    decoded = decode(token)
    flipped = bytes([decoded.signature[0] ^ 1]) + decoded.signature[1:]
    assert (
        verify_signature(dataclasses.replace(decoded, signature=flipped), key_pair[1], tongsuo)
        is False
    )


@pytest.mark.parametrize("name", BACKENDS)
def test_out_of_range_signature_is_a_mismatch(token, key_pair, name):
    decoded = dataclasses.replace(decode(token), signature=b"\xff" * 64)
    assert verify_signature(decoded, key_pair[1], sm2_backend(name)) is False


def test_other_key_does_not_verify(token, tongsuo):
    other = tongsuo.public_key(tongsuo.generate_private_key())
    assert verify_signature(decode(token), other, tongsuo) is False


def test_malformed_public_key_is_the_callers_error(token, tongsuo):
    with pytest.raises(MalformedKey):
        verify_signature(decode(token), b"\x04" + bytes(64), tongsuo)


def _exact(kid_length: int, length: int) -> tuple[str, dict[str, str]] | None:
    """A kid and payload whose token is exactly ``length`` characters, if this kid allows it."""
    kid = "k" * kid_length
    header = len(b64(orjson.dumps({"alg": "SM2", "kid": kid})))
    for size in range(length * 3 // 4 - 100, length * 3 // 4):
        payload = {"p": "x" * size}
        if header + 1 + len(b64(orjson.dumps(payload))) + 1 + 86 == length:
            return kid, payload
    return None


def _token_of_length(length: int, key: bytes, backend) -> str:
    """A well-formed signed token of exactly ``length`` characters (no length check on the way)."""
    kid, payload = next(f for f in (_exact(n, length) for n in range(1, 5)) if f is not None)
    signing_input = b64(orjson.dumps({"alg": "SM2", "kid": kid})) + "." + b64(orjson.dumps(payload))
    signature = backend.sign(key, signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


def test_the_length_limit_is_4096_characters_exactly(tongsuo, key_pair):
    assert jws.MAX_TOKEN_LENGTH == 4096
    at_limit = _token_of_length(4096, key_pair[0], tongsuo)
    assert len(at_limit) == 4096
    decoded = decode(at_limit)
    assert verify_signature(decoded, key_pair[1], tongsuo) is True
    # encode() makes the same token (SM2 signatures are randomised, lengths are not).
    assert len(encode(decoded.header, decoded.payload, key_pair[0], tongsuo)) == 4096

    over = _token_of_length(4097, key_pair[0], tongsuo)
    assert len(over) == 4097
    with pytest.raises(MalformedToken) as caught:
        decode(over)
    assert caught.value.detail == "the token is longer than 4096 characters"
    header, payload = (
        orjson.loads(base64.urlsafe_b64decode(s + "==")) for s in over.split(".")[:2]
    )
    with pytest.raises(ValueError, match="the token is longer than 4096 characters"):
        encode(header, payload, key_pair[0], tongsuo)


def test_verify_signature_answers_a_boolean(token, key_pair, tongsuo):
    assert verify_signature(decode(token), key_pair[1], tongsuo) is True
    other = tongsuo.public_key(tongsuo.generate_private_key())
    assert verify_signature(decode(token), other, tongsuo) is False


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("header not json", "the header is not JSON"),
        ("header not object", "the header is not a JSON object"),
        ("payload not json", "the payload is not JSON"),
        ("payload not object", "the payload is not a JSON object"),
        ("length 1 mod 4", "the signature is not canonical base64url"),
        ("non-canonical last char", "the signature is not canonical base64url"),
        ("signature 63 bytes", "the signature is not 64 bytes"),
        ("alg none", "the header alg is not SM2"),
        ("kid empty", "the header kid is missing or not a string"),
        ("typ not string", "the header typ is not a string"),
        ("crit", "the header has crit, which is not supported"),
        ("two parts", "a token has three dot-separated parts"),
        ("padding", "a part is empty or not unpadded base64url"),
    ],
)
def test_each_refusal_names_its_part(token, case, detail):
    with pytest.raises(MalformedToken) as caught:
        decode(MALFORMED[case](token))
    assert caught.value.detail == detail


def test_a_non_canonical_header_or_payload_is_named(token):
    header, payload, signature = _segments(token)
    cut = {0: "A", 1: "", 2: "AAA", 3: "AA"}  # to a length of 1 mod 4
    for bad_header, bad_payload, part in (
        (header + cut[len(header) % 4], payload, "header"),
        (header, payload + cut[len(payload) % 4], "payload"),
    ):
        with pytest.raises(MalformedToken) as caught:
            decode(f"{bad_header}.{bad_payload}.{signature}")
        assert caught.value.detail == f"the {part} is not canonical base64url"


def test_the_signing_input_is_the_ascii_of_the_first_two_segments(token):
    decoded = decode(token)
    assert decoded.signing_input == token.rpartition(".")[0].encode("ascii")
    assert isinstance(decoded.signing_input, bytes) and isinstance(token, str)
