"""Generated, valid licence data for demos, benchmarks and tests.

Every value passes the catalogue and the identifier check rules; numbers are
drawn from the given ``random.Random`` so a seed gives the same data again.
Nothing here is a real person or enterprise.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any, Literal

from wallet import identifiers
from wallet.licences.catalogue import LicenceKind

__all__ = ["sample_face", "sample_issuer"]

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def sample_issuer(division: str = "210102") -> dict[str, str]:
    """An issuing department of ``division`` with a valid USCC (category 11: government body)."""
    rng = random.Random(int(division))
    body = "11" + division + "".join(rng.choice("0123456789") for _ in range(8))
    body += identifiers.organisation_code_check(body[8:16])
    return {
        "uscc": body + identifiers.uscc_check_char(body),
        "division": division,
        "name": "示例交通运输局",
    }


def sample_face(
    kind: LicenceKind, rng: random.Random, division: str = "210102", **overrides: Any
) -> dict[str, Any]:
    """A complete valid face of ``kind``; ``overrides`` replace single fields."""
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))
    birth = date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28))
    sex: Literal["M", "F"] = "M" if rng.random() < 0.5 else "F"
    id_number = identifiers.make_resident_id(rng, area=division, birth=birth, sex=sex)
    operator = "示例" + "".join(rng.choice(_GIVEN) for _ in range(2)) + "运输有限公司"
    full: dict[str, Any] = {
        "name": name,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "nationality": "中国",
        "address": "辽宁省沈阳市和平区示例路1号",
        "certificate_number": id_number,
        "qualification_categories": ["经营性道路货物运输驾驶员"],
        "driving_classes": ["A2"],
        "first_issue_date": "2012-03-01",
        "valid_from": "2024-03-01",
        "valid_until": "2030-02-28",
        "issuing_authority": "示例交通运输局",
        "issuing_organisation": "示例交通运输局",
        "file_number": f"{rng.randrange(10**11, 10**12)}",
        "photo": f"photo/{rng.getrandbits(64):016x}",
        "issue_date": "2024-03-01",
        "operator_name": operator,
        "person_in_charge": name,
        "uscc": identifiers.make_uscc(rng, division=division),
        "economic_type": "有限责任公司",
        "business_scope": "道路普通货物运输",
        "operating_area": "沈阳市",
        "permit_number": identifiers.make_licence_number(rng, division),
        "operator_address": "辽宁省沈阳市和平区示例路2号",
        "plate_number": identifiers.make_plate(rng),
        "plate_colour": "2",
        "business_permit_number": identifiers.make_licence_number(rng, division),
        "vehicle_type": "H12",
        "tonnage_or_seats": "31.5",
        "length_mm": 12000,
        "width_mm": 2550,
        "height_mm": 3990,
        "remarks": "",
        "annual_review_state": "1",
    }
    if kind.holder_type == "vehicle":
        full["certificate_number"] = identifiers.make_licence_number(rng, division)
        full["issue_date"] = full["valid_from"] = "2024-05-06"
        full["first_issue_date"] = "2020-05-06"
        full["valid_until"] = "2028-05-05"
    elif kind.holder_type == "enterprise":
        full["issue_date"] = full["valid_from"] = "2024-01-01"
        full["valid_until"] = "2027-12-31"
    full.update(overrides)
    return {field: full[field] for field in kind.field_names if field in full}
