"""JPEG metadata segments removed without decoding the picture (lossless).

Used for JPEGs that live inside other files (a scanned page in a PDF is a JPEG stream): the
picture must stay exactly as it is, so instead of re-encoding, the segments before the image
data that carry metadata are dropped — EXIF and XMP (APP1: camera, time, GPS), Photoshop/IPTC
(APP13: author, place), comments (COM) and the other application segments. Kept: JFIF (APP0),
the ICC colour profile (APP2) and Adobe's colour transform (APP14), which the picture needs.
"""

from __future__ import annotations

from storage.cleaners import CleaningError

_SOI, _SOS, _EOI = 0xD8, 0xDA, 0xD9
_KEEP_APP = frozenset({0xE0, 0xE2, 0xEE})  # JFIF, ICC profile, Adobe
_COM = 0xFE
# Markers without a length field (TEM, RSTn).
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def strip_jpeg_metadata(data: bytes) -> bytes:
    """`data` without its metadata segments; everything from the first scan on unchanged."""
    if data[:2] != b"\xff\xd8":
        raise CleaningError("not a JPEG")
    out = bytearray(b"\xff\xd8")
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise CleaningError("the JPEG is damaged (no marker where one must be)")
        marker = data[pos + 1] if pos + 1 < len(data) else _EOI
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in (_SOS, _EOI):  # the image data follows: keep the rest as it is
            out += data[pos:]
            return bytes(out)
        if marker in _STANDALONE:
            out += data[pos : pos + 2]
            pos += 2
            continue
        if pos + 4 > len(data):
            raise CleaningError("the JPEG is cut short")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise CleaningError("the JPEG is damaged (a segment runs past its end)")
        is_metadata = marker == _COM or (0xE0 <= marker <= 0xEF and marker not in _KEEP_APP)
        if not is_metadata:
            out += data[pos:end]
        pos = end
    raise CleaningError("the JPEG has no image data")
