import wallet.crypto


def test_public_surface_is_listed() -> None:
    exported = set(wallet.crypto.__all__)
    public = {name for name in dir(wallet.crypto) if not name.startswith("_")}
    assert exported == public
    assert exported == {
        "DEFAULT_UID",
        "KeyedHmacSM3",
        "SM2Backend",
        "available_backends",
        "hmac_sm3",
        "parse_private_key_hex",
        "parse_public_key_hex",
        "public_key_hex",
        "sm2_backend",
        "sm2_decrypt",
        "sm2_encrypt",
        "sm3",
        "sm4_gcm_decrypt",
        "sm4_gcm_encrypt",
    }
