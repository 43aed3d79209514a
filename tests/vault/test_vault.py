import pytest

from wallet.errors import CryptoError
from wallet.vault import Vault, mask_id_number, mask_name, mask_phone
from wallet.vault.service import normalise

MASTER = bytes(range(32))


def test_seal_open_round_trip_and_no_clear_text():
    vault = Vault.from_master_key(MASTER)
    sealed = vault.seal("张三丰", "person.name")
    assert sealed.startswith("v1.")
    assert "张三丰" not in sealed
    assert vault.open(sealed, "person.name") == "张三丰"


def test_same_value_seals_differently_each_time():
    vault = Vault.from_master_key(MASTER)
    assert vault.seal("x", "c") != vault.seal("x", "c")


def test_ciphertext_is_bound_to_its_column():
    vault = Vault.from_master_key(MASTER)
    sealed = vault.seal("210102199001011234", "person.id_number")
    with pytest.raises(CryptoError):
        vault.open(sealed, "person.name")


def test_tampered_ciphertext_fails():
    vault = Vault.from_master_key(MASTER)
    sealed = vault.seal("13812345678", "person.phone")
    kid, body = sealed.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(CryptoError):
        vault.open(f"{kid}.{flipped}", "person.phone")


@pytest.mark.parametrize("garbage", ["", "v1.", "v9.AAAA", "v1.!!!!", "nodot"])
def test_garbage_is_a_crypto_error(garbage):
    with pytest.raises(CryptoError):
        Vault.from_master_key(MASTER).open(garbage, "c")


def test_rotation_opens_old_values_and_flags_them_for_reseal():
    old = Vault.from_master_key(MASTER, "v1")
    sealed = old.seal("李四", "person.name")
    new = Vault.from_master_key(MASTER, "v2", kids=("v1",))
    assert new.open(sealed, "person.name") == "李四"
    assert new.needs_reseal(sealed)
    resealed = new.seal("李四", "person.name")
    assert resealed.startswith("v2.") and not new.needs_reseal(resealed)
    with pytest.raises(CryptoError):
        old.open(resealed, "person.name")


def test_blind_index_is_stable_normalised_and_keyed():
    vault = Vault.from_master_key(MASTER)
    a = vault.blind_index("21010219900101123x", "resident_id")
    assert a == vault.blind_index(" 21010219900101123X ", "resident_id")
    assert a != vault.blind_index("21010219900101123X", "phone")
    assert a != Vault.from_master_key(bytes(32)).blind_index("21010219900101123X", "resident_id")
    assert len(a) == 64


def test_normalise_folds_width_and_spaces():
    assert normalise("ｌiao Ａ 12345") == "LIAOA12345"


def test_masks():
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_id_number("21010219900101123X") == "2101**********123X"
    assert mask_phone("13812345678") == "138****5678"
