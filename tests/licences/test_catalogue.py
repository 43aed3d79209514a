from __future__ import annotations

import copy
import json
import random
from datetime import date
from importlib import resources
from typing import Any

import pytest

from wallet import identifiers
from wallet.errors import ConfigurationError, NotFound, ValidationFailed
from wallet.licences.catalogue import (
    CATALOGUE,
    LicenceKind,
    get_kind,
    kind_by_type_code,
    load_catalogue,
    validate_face,
)

DOMAIN_TYPE_CODES = {
    "qualification": "11100000000019713D071",
    "ridehail_driver": "11100000000019713D072",
    "taxi_driver": "11100000000019713D075",
    "business_permit": "11100000000019713D008",
    "dangerous_goods_permit": "11100000000019713D016",
    "ridehail_business_permit": "11100000000019713D074",
    "radioactive_permit": "11100000000019713D079",
    "transport_cert": "11100000000019713D013",
    "ridehail_transport": "11100000000019713D073",
}

ID_NUMBER = identifiers.make_resident_id(
    random.Random(1), area="210102", birth=date(1985, 6, 15), sex="M"
)


def person_face(rng: random.Random) -> dict[str, Any]:
    return {
        "name": "张三",
        "sex": "M",
        "birth_date": "1985-06-15",
        "nationality": "中国",
        "address": "辽宁省沈阳市和平区南京北街1号",
        "certificate_number": ID_NUMBER,
        "qualification_categories": ["经营性道路货物运输驾驶员"],
        "driving_classes": ["A2"],
        "first_issue_date": "2012-03-01",
        "valid_from": "2024-03-01",
        "valid_until": "2030-02-28",
        "issuing_authority": "沈阳市交通运输局",
        "file_number": "210100123456",
        "photo": "photo/3f2a9c",
        "issuing_organisation": "沈阳市交通运输局",
        "issue_date": "2024-03-01",
    }


def enterprise_face(rng: random.Random) -> dict[str, Any]:
    return {
        "operator_name": "沈阳通达运输有限公司",
        "address": "辽宁省沈阳市和平区中华路10号",
        "person_in_charge": "李四",
        "uscc": identifiers.make_uscc(rng, division="210102"),
        "economic_type": "有限责任公司",
        "business_scope": "道路普通货物运输",
        "operating_area": "沈阳市",
        "permit_number": identifiers.make_licence_number(rng, "210102"),
        "valid_from": "2024-01-01",
        "valid_until": "2027-12-31",
        "issuing_authority": "沈阳市交通运输局",
        "issue_date": "2024-01-01",
    }


def vehicle_face(rng: random.Random) -> dict[str, Any]:
    return {
        "certificate_number": identifiers.make_licence_number(rng, "210102"),
        "operator_name": "沈阳通达运输有限公司",
        "operator_address": "辽宁省沈阳市和平区中华路10号",
        "plate_number": identifiers.make_plate(rng),
        "plate_colour": "2",
        "business_permit_number": identifiers.make_licence_number(rng, "210102"),
        "economic_type": "有限责任公司",
        "vehicle_type": "H12",
        "tonnage_or_seats": "31.5",
        "length_mm": 12000,
        "width_mm": 2550,
        "height_mm": 3990,
        "business_scope": "道路普通货物运输",
        "operating_area": "沈阳市",
        "first_issue_date": "2020-05-06",
        "remarks": "",
        "issue_date": "2024-05-06",
        "issuing_authority": "沈阳市交通运输局",
        "valid_from": "2024-05-06",
        "valid_until": "2028-05-05",
        "annual_review_state": "1",
    }


def valid_face(kind: LicenceKind, seed: int = 0) -> dict[str, Any]:
    """A face for ``kind`` with every field it has filled in."""
    rng = random.Random(seed)
    pool = {"person": person_face, "enterprise": enterprise_face, "vehicle": vehicle_face}
    full = pool[kind.holder_type](rng)
    return {name: full[name] for name in kind.field_names}


def problems(kind: LicenceKind, face: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as caught:
        validate_face(kind, face, **kwargs)
    assert caught.value.errors == caught.value.to_problem()["errors"]
    return caught.value.errors


def rules_of(found: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(p["field"], p["rule"]) for p in found}


KINDS = sorted(CATALOGUE)


# --- the catalogue as data -----------------------------------------------------


def test_catalogue_holds_the_nine_kinds_of_domain_md() -> None:
    assert {code: kind.type_code for code, kind in CATALOGUE.items()} == DOMAIN_TYPE_CODES


@pytest.mark.parametrize("code", KINDS)
def test_kind_is_consistent(code: str) -> None:
    kind = get_kind(code)
    assert kind.code == code
    assert kind_by_type_code(kind.type_code) is kind
    assert kind.field(kind.number_field).type == kind.number_format
    assert kind.field(kind.number_field).required
    expected_holder_code = "111" if kind.holder_type == "person" else "001"
    assert kind.holder_code_type == expected_holder_code
    assert kind.standard in {"JT/T 1290-2019", "JT/T 1291-2019", "JT/T 1292-2019"}
    for spec in kind.fields:
        if spec.type in ("enum", "enum_list"):
            assert spec.choices
        else:
            assert spec.choices is None


def test_person_fields_are_personal_data() -> None:
    qualification = get_kind("qualification")
    assert {"name", "birth_date", "address", "certificate_number", "photo"} <= (
        qualification.pii_fields
    )
    assert "issuing_authority" not in qualification.pii_fields
    assert get_kind("business_permit").pii_fields == {"person_in_charge"}
    assert get_kind("transport_cert").pii_fields == frozenset()


def test_families_have_the_face_fields_of_domain_md() -> None:
    assert get_kind("qualification").field_names == (
        "name",
        "sex",
        "birth_date",
        "nationality",
        "address",
        "certificate_number",
        "qualification_categories",
        "driving_classes",
        "first_issue_date",
        "valid_from",
        "valid_until",
        "issuing_authority",
        "file_number",
        "photo",
    )
    assert set(get_kind("ridehail_business_permit").field_names) - set(
        get_kind("business_permit").field_names
    ) == {"operating_area"}
    assert set(get_kind("ridehail_transport").field_names) - set(
        get_kind("transport_cert").field_names
    ) == {"operating_area", "valid_from", "annual_review_state"}
    assert get_kind("transport_cert").field("plate_colour").choices == (
        "1",
        "2",
        "3",
        "4",
        "5",
        "9",
        "91",
        "92",
        "93",
        "94",
    )
    assert get_kind("transport_cert").field("plate_colour").label_of("94") == "渐变绿色"
    assert len(get_kind("qualification").field("qualification_categories").choices or ()) == 5


def test_default_validity() -> None:
    assert get_kind("qualification").default_validity_years == 6
    assert get_kind("taxi_driver").default_validity_years == 3
    assert get_kind("ridehail_driver").default_validity_years == 3
    assert get_kind("transport_cert").default_validity_years is None


def test_unknown_kind_is_not_found() -> None:
    with pytest.raises(NotFound):
        get_kind("fishing_licence")
    with pytest.raises(NotFound):
        kind_by_type_code("11100000000019713D999")


def test_type_code_lookup_normalises() -> None:
    assert kind_by_type_code(" 11100000000019713d071 ").code == "qualification"


def packaged_data() -> dict[str, Any]:
    text = resources.files("wallet.licences").joinpath("catalogue.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_packaged_data_loads_to_the_catalogue() -> None:
    assert load_catalogue(packaged_data()) == dict(CATALOGUE)


def test_a_corrected_field_list_is_a_data_change() -> None:
    data = packaged_data()
    transport = next(k for k in data["kinds"] if k["code"] == "transport_cert")
    transport["fields"].append({"name": "brand_model", "label": "厂牌型号", "type": "string"})
    kind = load_catalogue(data)["transport_cert"]
    face = valid_face(get_kind("transport_cert")) | {"brand_model": "解放CA4250"}
    assert validate_face(kind, face)["brand_model"] == "解放CA4250"


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(packaged_data())
    kind = data["kinds"][0]
    if change == "unknown_key":
        kind["colour"] = "blue"
    elif change == "type_code":
        kind["type_code"] = "11100000000019713E071"
    elif change == "number_field":
        kind["number_field"] = "name"
    elif change == "field_type":
        kind["fields"][0]["type"] = "text"
    elif change == "choices":
        kind["fields"][1]["choices"] = "no_such_table"
    elif change == "date_order":
        kind["date_order"] = [["name", "valid_until"]]
    elif change == "repeat":
        data["kinds"].append(copy.deepcopy(kind))
    elif change == "holder_code_type":
        kind["holder_code_type"] = "123"
    return data


@pytest.mark.parametrize(
    "change",
    [
        "unknown_key",
        "type_code",
        "number_field",
        "field_type",
        "choices",
        "date_order",
        "repeat",
        "holder_code_type",
    ],
)
def test_bad_catalogue_data_is_refused(change: str) -> None:
    with pytest.raises(ConfigurationError):
        load_catalogue(_broken(change))


# --- the interpreter -------------------------------------------------------------


@pytest.mark.parametrize("code", KINDS)
def test_valid_example_face_passes(code: str) -> None:
    kind = get_kind(code)
    face = valid_face(kind)
    out = validate_face(kind, face, today=date(2025, 1, 1))
    assert set(out) <= set(face)
    assert out[kind.number_field] == face[kind.number_field]
    json.dumps(out)  # the normalised face is JSON-ready


@pytest.mark.parametrize(
    ("code", "field"),
    [(code, spec.name) for code in KINDS for spec in CATALOGUE[code].fields if spec.required],
)
def test_each_required_field_missing_is_named(code: str, field: str) -> None:
    kind = get_kind(code)
    face = valid_face(kind)
    del face[field]
    assert (field, "required") in rules_of(problems(kind, face))


@pytest.mark.parametrize("blank", [None, "", "   ", []])
def test_blank_counts_as_missing(blank: object) -> None:
    kind = get_kind("qualification")
    face = valid_face(kind) | {"name": blank, "qualification_categories": blank}
    found = rules_of(problems(kind, face))
    assert found == {("name", "required"), ("qualification_categories", "required")}


def test_optional_blank_fields_are_dropped() -> None:
    kind = get_kind("transport_cert")
    out = validate_face(kind, valid_face(kind) | {"remarks": "  ", "valid_until": None})
    assert "remarks" not in out
    assert "valid_until" not in out


def test_normalisation() -> None:
    kind = get_kind("transport_cert")
    face = valid_face(kind) | {
        "plate_number": "辽a·12345",
        "plate_colour": 2,
        "tonnage_or_seats": "31.50",
        "length_mm": "12000",
        "issue_date": date(2024, 5, 6),
        "operator_name": "  沈阳通达运输有限公司 ",
    }
    out = validate_face(kind, face)
    assert out["plate_number"] == "辽A12345"
    assert out["plate_colour"] == "2"
    assert out["tonnage_or_seats"] == "31.5"
    assert out["length_mm"] == 12000
    assert out["issue_date"] == "2024-05-06"
    assert out["operator_name"] == "沈阳通达运输有限公司"
    assert validate_face(kind, out) == out


def test_enum_lists_are_normalised_and_deduplicated() -> None:
    kind = get_kind("qualification")
    face = valid_face(kind) | {"driving_classes": ["a2", "A2", " D "]}
    assert validate_face(kind, face)["driving_classes"] == ["A2", "D"]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("operator_name", 42, "type"),
        ("operator_name", "车" * 129, "max_length"),
        ("remarks", "line\x00break", "charset"),
        ("issue_date", "2024/05/06", "date_format"),
        ("issue_date", "20240506", "date_format"),
        ("issue_date", "2024-02-30", "date_format"),
        ("issue_date", 20240506, "type"),
        ("length_mm", 12.5, "type"),
        ("length_mm", "12.5", "type"),
        ("length_mm", True, "type"),
        ("length_mm", 0, "minimum"),
        ("tonnage_or_seats", "thirty", "type"),
        ("tonnage_or_seats", "NaN", "type"),
        ("tonnage_or_seats", float("inf"), "type"),
        ("tonnage_or_seats", -1, "minimum"),
        ("plate_colour", "7", "enum"),
        ("plate_colour", ["2"], "type"),
        ("vehicle_type", "h1", "pattern"),
        ("plate_number", "辽I12345", "plate.authority"),
        ("certificate_number", "99010200012", "licence_number.length"),
        ("business_permit_number", "990102000123", "licence_number.province"),
        ("certificate_number", 210102000123, "type"),
    ],
)
def test_field_rules(field: str, value: object, rule: str) -> None:
    kind = get_kind("transport_cert")
    assert rules_of(problems(kind, valid_face(kind) | {field: value})) == {(field, rule)}


@pytest.mark.parametrize(
    ("code", "field", "value", "rule"),
    [
        ("qualification", "qualification_categories", "经营性道路货物运输驾驶员", "type"),
        ("qualification", "qualification_categories", ["出租汽车驾驶员"], "enum"),
        ("qualification", "driving_classes", ["B3"], "enum"),
        ("qualification", "sex", "男", "enum"),
        ("business_permit", "uscc", "91350100M000100Y44", "uscc.check_digit"),
        ("business_permit", "uscc", "91350100M000100YI3", "uscc.charset"),
        ("ridehail_transport", "annual_review_state", "3", "enum"),
        ("ridehail_transport", "plate_number", "辽A1234港", "plate.format"),
    ],
)
def test_kind_specific_rules(code: str, field: str, value: object, rule: str) -> None:
    kind = get_kind(code)
    assert rules_of(problems(kind, valid_face(kind) | {field: value})) == {(field, rule)}


def test_bad_resident_id_inside_a_face() -> None:
    kind = get_kind("ridehail_driver")
    bad = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    found = problems(kind, valid_face(kind) | {"certificate_number": bad})
    assert rules_of(found) == {("certificate_number", "resident_id.check_digit")}


def test_resident_id_birth_date_is_bounded_by_today() -> None:
    kind = get_kind("taxi_driver")
    face = valid_face(kind)
    assert validate_face(kind, face, today=date(1985, 6, 15))
    found = problems(kind, face, today=date(1985, 6, 14))
    assert rules_of(found) == {("certificate_number", "resident_id.birth_date")}


def test_birth_date_and_sex_must_agree_with_the_id_number() -> None:
    kind = get_kind("qualification")
    face = valid_face(kind) | {"birth_date": "1985-06-16", "sex": "F"}
    assert rules_of(problems(kind, face)) == {("birth_date", "id_mismatch"), ("sex", "id_mismatch")}


@pytest.mark.parametrize(
    "code", [code for code in KINDS if "valid_from" in CATALOGUE[code].field_names]
)
def test_validity_out_of_order(code: str) -> None:
    kind = get_kind(code)
    face = valid_face(kind) | {"valid_from": "2031-01-01"}
    assert ("valid_until", "date_order") in rules_of(problems(kind, face))


def test_kind_specific_date_order() -> None:
    kind = get_kind("transport_cert")
    face = valid_face(kind) | {"first_issue_date": "2025-01-01"}
    assert rules_of(problems(kind, face)) == {("issue_date", "date_order")}


def test_unknown_field_is_rejected() -> None:
    kind = get_kind("business_permit")
    face = valid_face(kind) | {"legal_representative": "王五", 7: "x"}
    found = rules_of(problems(kind, face))
    assert found == {("legal_representative", "unknown_field"), ("7", "unknown_field")}


def test_all_problems_are_collected() -> None:
    kind = get_kind("transport_cert")
    face = valid_face(kind) | {
        "plate_colour": "8",
        "length_mm": "long",
        "vehicle": "truck",
        "valid_until": "2000-01-01",
    }
    del face["operator_name"]
    found = problems(kind, face)
    assert rules_of(found) == {
        ("plate_colour", "enum"),
        ("length_mm", "type"),
        ("vehicle", "unknown_field"),
        ("valid_until", "date_order"),
        ("operator_name", "required"),
    }
    assert all(set(p) == {"field", "rule", "message"} for p in found)


def test_face_must_be_a_mapping() -> None:
    kind = get_kind("qualification")
    assert rules_of(problems(kind, ["name"])) == {("face", "type")}  # type: ignore[arg-type]


def test_personal_values_are_never_echoed() -> None:
    kind = get_kind("qualification")
    secret_name = "欧阳" * 40  # too long
    secret_id = "21010219850615001Y"  # bad charset
    secret_address = "秘密" * 200  # too long
    face = valid_face(kind) | {
        "name": secret_name,
        "certificate_number": secret_id,
        "address": secret_address,
        "photo": 12345,
    }
    with pytest.raises(ValidationFailed) as caught:
        validate_face(kind, face)
    rendered = json.dumps(caught.value.to_problem(), ensure_ascii=False) + str(caught.value)
    assert rules_of(caught.value.errors) == {
        ("name", "max_length"),
        ("certificate_number", "resident_id.charset"),
        ("address", "max_length"),
        ("photo", "type"),
    }
    for secret in (secret_name, secret_id, secret_address, "欧阳欧阳", "12345", "1985"):
        assert secret not in rendered
