"""Office files (DOCX, XLSX): core, app and custom properties cleared, the zip rewritten.

Core properties hold the author, "last modified by", title, subject, keywords and dates; app
properties the company, manager, template and editing time; custom properties whatever a
company adds. Each part is replaced by an empty one of its kind (so Word and Excel still open
the file), entries get a neutral timestamp and lose their zip "extra" fields (owner ids, NTFS
times), and pictures inside (``*/media/``) go through the image cleaner.

Not removed: names of comment authors and tracked-change authors inside the document itself.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable
from xml.etree import ElementTree

from storage.cleaners import CleaningError

MAX_ENTRIES = 5000
MAX_UNCOMPRESSED = 300 * 1024 * 1024  # a zip bomb stops here

_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CORE_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_APP_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_VT = b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"'
EMPTY_PARTS = {
    "core": _HEAD + b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
    b'2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    b'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/'
    b'dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
    "app": _HEAD + b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties" ' + _VT + b"/>",
    "custom": _HEAD + b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
    b'2006/custom-properties" ' + _VT + b"/>",
}
_DEFAULT_PARTS = {"docProps/core.xml": "core", "docProps/app.xml": "app", "docProps/custom.xml": "custom"}
_NEUTRAL_TIME = (1980, 1, 1, 0, 0, 0)
_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif")


def office_type(data: bytes) -> str | None:
    """ "docx" or "xlsx" for an OOXML package of that kind, else None (other zips, damage)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def clean_office(data: bytes, *, clean_image: Callable[[bytes], bytes] | None = None) -> bytes:
    try:
        return _rewrite(data, clean_image)
    except CleaningError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to parse is a file we cannot clean: BadZipFile, zlib.error, CRC mismatch, XML errors, ...
        raise CleaningError(f"the office file cannot be read ({type(exc).__name__})") from None


def _rewrite(data: bytes, clean_image: Callable[[bytes], bytes] | None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        infos = src.infolist()
        if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
            raise CleaningError("the office file is too large when unpacked")
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names:
            raise CleaningError("not an office document")
        parts = _property_parts(src, names)
        out = io.BytesIO()
        seen: set[str] = set()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            for info in infos:
                if info.is_dir() or info.filename in seen:
                    continue
                seen.add(info.filename)
                if info.filename in parts:
                    body = EMPTY_PARTS[parts[info.filename]]
                else:
                    body = src.read(info)
                    if (
                        clean_image is not None
                        and "/media/" in info.filename
                        and info.filename.lower().endswith(_IMAGE_EXT)
                    ):
                        body = clean_image(body)
                entry = zipfile.ZipInfo(info.filename, date_time=_NEUTRAL_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                dst.writestr(entry, body)
        return out.getvalue()


def _property_parts(src: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Part name → "core" | "app" | "custom", from the package relationships (and the usual
    names, in case the relationships are odd)."""
    parts = {name: kind for name, kind in _DEFAULT_PARTS.items() if name in names}
    if "_rels/.rels" in names:
        # Expat >= 2.4.1 refuses entity expansion bombs and ElementTree never fetches external entities.
        root = ElementTree.fromstring(src.read("_rels/.rels"))  # noqa: S314 - see above
        kinds = {_CORE_REL: "core", _APP_REL: "app", _CUSTOM_REL: "custom"}
        for rel in root.iter(f"{_REL_NS}Relationship"):
            kind = kinds.get(rel.get("Type", ""))
            target = rel.get("Target", "")
            if kind and target and rel.get("TargetMode") != "External":
                name = posixpath.normpath(target.lstrip("/"))
                if name in names:
                    parts[name] = kind
    return parts
