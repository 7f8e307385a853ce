"""A complete set of closed answers, used by several tests."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FULL_ANSWERS: Mapping[str, Any] = {
    "relation": "parent",
    "danger": ["ongoing", "medical"],
    "facility_kind": "sizo",
    "region": "karaganda",
    "facility_name": "ЕС-164/1",
    "last_incident": "week",
    "ongoing": "yes",
    "methods": ["beating", "forced_sign"],
    "knowledge": "person",
    "perpetrators": ["prison"],
    "injuries": "yes",
    "medical": "refused",
    "age_group": "18_29",
    "sex": "male",
    "lawyer_access": "denied",
    "complaints": ["none"],
    "reprisals": "no",
    "contact": "yes",
    "silent": "yes",
}
