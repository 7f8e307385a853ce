"""A complete set of closed answers, used by several tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FULL_ANSWERS: Mapping[str, Any] = {
    "relation": "parent",
    "person_agrees": "yes",
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


def jpeg_with_gps() -> bytes:
    """A small camera-like JPEG carrying EXIF (make, model) and GPS coordinates."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "KuaMake"
    exif[0x0110] = "KuaModel"
    exif[0x8825] = {1: "N", 2: (43.0, 15.0, 30.0), 3: "E", 4: (76.0, 57.0, 0.0)}
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 80, 80)).save(buf, "JPEG", exif=exif, quality=90)
    return buf.getvalue()
