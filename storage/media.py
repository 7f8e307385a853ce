"""Removing identifying metadata from uploaded files before they are stored.

:func:`clean` is the one entry point for incoming files: it recognises the type from the
bytes (never from the name alone), hands the file to its cleaner — images here, HEIC/HEIF
through the pillow-heif plugin, PDF, video/audio and office files in ``storage.cleaners`` — and
raises :class:`UnsupportedType` for anything else (unless the organisation allows other types;
then they are stored as they came, marked "metadata not removed"). A file that is, or says it
is, of an accepted type but cannot be cleaned raises :class:`MediaError`: it must never be
stored as it came.

Images in detail:

Photos sent as *documents* keep the camera's EXIF: GPS position, device make/model/serial,
timestamps, sometimes the owner's name. Those can identify the reporter, so every image Pillow
can read is decoded and re-encoded from pixels only: EXIF, XMP, IPTC, comments, PNG text chunks
and ICC profiles (which can name the device) are all dropped. The EXIF orientation is applied to
the pixels first, so the picture still looks the right way up; colours are converted to sRGB when
an ICC profile was present, so they survive losing the profile.

Error contract: :func:`strip_metadata` raises :class:`MediaError` when the data *is* (or claims to
be, by MIME type, file name or magic bytes) an image of a format we strip but cannot be decoded or
re-encoded (corrupt, truncated, too large). Such a file must not be stored as is, because its
metadata would survive; show the user a "could not read this image, please resend it" message.
Everything else (videos, voice, PDFs, ...) is returned unchanged by :func:`strip_metadata`;
:func:`clean` sends those to their own cleaners.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import io
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from storage.cleaners import CleaningError
from storage.cleaners.av import TYPES as AV_TYPES
from storage.cleaners.av import clean_av
from storage.cleaners.office import clean_office, office_type
from storage.cleaners.pdf import clean_pdf

if TYPE_CHECKING:
    from PIL import Image, ImageOps, ImageSequence
else:
    # Pillow and pillow_heif are imported at the first file, not at start-up: about 10 MB of RSS
    # a bot that never receives an image does not need (see docs/performance.md).

    class _Lazy:
        def __init__(self, name: str) -> None:
            self._name = name

        def __getattr__(self, attr: str) -> Any:
            return getattr(_pillow(self._name), attr)

    Image, ImageOps, ImageSequence = _Lazy("Image"), _Lazy("ImageOps"), _Lazy("ImageSequence")


@functools.cache
def _heif_registered() -> bool:
    import pillow_heif

    # HEIC/HEIF (iPhones' default) through Pillow; thumbnails and depth maps are not even decoded.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    return True


def _pillow(name: str) -> Any:
    _heif_registered()
    return importlib.import_module(f"PIL.{name}")


def _unidentified() -> type[Exception]:
    error: type[Exception] = _pillow("Image").UnidentifiedImageError
    return error


@functools.cache
def _image_cms() -> Any:
    try:  # colour management is optional in Pillow builds
        return _pillow("ImageCms")
    except ImportError:  # pragma: no cover - depends on the Pillow build
        return None


__all__ = [
    "ACCEPTED",
    "MAX_FRAMES",
    "MAX_PIXELS",
    "Cleaned",
    "FileType",
    "MediaError",
    "MediaKind",
    "UnsupportedType",
    "clean",
    "delivery_name",
    "detect_type",
    "sha256_hex",
    "sniff_kind",
    "strip_metadata",
]

# Decoded format (Image.format) → format we write back. MPO is what Pillow calls camera JPEGs
# that carry extra frames (previews, depth maps — each with its own EXIF); we keep the main image.
_OUTPUT_FORMAT = {
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "PNG": "PNG",
    "WEBP": "WEBP",
    "TIFF": "TIFF",
    "GIF": "GIF",
    "AVIF": "AVIF",  # only when Pillow was built with libavif
    # HEIC/HEIF (pillow-heif) is written back as JPEG: HEVC encoding takes minutes for a 12-Mpx
    # photo on a small server (JPEG: a fraction of a second; scripts/bench_media.py), and
    # Telegram shows JPEGs inline where HEIC arrives as a download.
    "HEIF": "JPEG",
}
_MULTI_FRAME = frozenset({"PNG", "WEBP", "TIFF", "GIF", "AVIF"})  # others keep the first frame
_SAVE_PARAMS: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 90},
    "WEBP": {"quality": 90, "method": 2},  # method 4 (the default): ~10x slower on photos
    "AVIF": {"quality": 90},
    "HEIF": {"quality": 90},
    "TIFF": {"compression": "tiff_lzw"},
    "PNG": {},
    "GIF": {},
}

# Same order of magnitude as Pillow's own decompression-bomb threshold (~89 Mpx), high enough for
# 108-Mpx phone cameras; roughly 300 MB of RGB while re-encoding.
MAX_PIXELS = 110_000_000
MAX_FRAMES = 300

_IMAGE_MIME = frozenset(
    {
        "image/jpeg",
        "image/pjpeg",
        "image/png",
        "image/webp",
        "image/tiff",
        "image/gif",
        "image/avif",
        "image/apng",
        "image/heic",
        "image/heif",
        "image/heic-sequence",
        "image/heif-sequence",
    }
)
_IMAGE_EXT = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".webp",
        ".tif",
        ".tiff",
        ".gif",
        ".avif",
        ".apng",
        ".heic",
        ".heif",
        ".hif",
    }
)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})

MediaKind = Literal["image", "video", "audio", "document"]


class MediaError(Exception):
    """A file we should clean could not be processed. The message never contains file content."""


class UnsupportedType(Exception):
    """A file of a type whose metadata we cannot remove (and other types are not allowed)."""


class FileType(StrEnum):
    """The file types accepted from reporters, each with a cleaner."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"
    TIFF = "tiff"
    HEIF = "heic"
    PDF = "pdf"
    MP4 = "mp4"
    MOV = "mov"
    M4A = "m4a"
    OGG = "ogg"
    MP3 = "mp3"
    DOCX = "docx"
    XLSX = "xlsx"

    @property
    def extension(self) -> str:
        return {"jpeg": "jpg", "tiff": "tif"}.get(self.value, self.value)

    @property
    def mime_type(self) -> str:
        return _MIME[self]

    @property
    def label(self) -> str:
        """How the type is named to people (also in the list of accepted types)."""
        return {"webp": "WebP", "heic": "HEIC"}.get(self.value, self.value.upper())

    @property
    def kind(self) -> MediaKind:
        if self in (FileType.MP4, FileType.MOV):
            return "video"
        if self in (FileType.M4A, FileType.OGG, FileType.MP3):
            return "audio"
        if self in (FileType.PDF, FileType.DOCX, FileType.XLSX):
            return "document"
        return "image"


_MIME = {
    FileType.JPEG: "image/jpeg",
    FileType.PNG: "image/png",
    FileType.WEBP: "image/webp",
    FileType.GIF: "image/gif",
    FileType.TIFF: "image/tiff",
    FileType.HEIF: "image/heic",
    FileType.PDF: "application/pdf",
    FileType.MP4: "video/mp4",
    FileType.MOV: "video/quicktime",
    FileType.M4A: "audio/mp4",
    FileType.OGG: "audio/ogg",
    FileType.MP3: "audio/mpeg",
    FileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ACCEPTED: tuple[FileType, ...] = tuple(FileType)
# What a file claims by extension or MIME type: such a file must be cleanable, or it is refused
# as unreadable (never stored as it came, even when other types are allowed).
_CLAIMS_EXT = {
    ".jpg": FileType.JPEG,
    ".jpeg": FileType.JPEG,
    ".jpe": FileType.JPEG,
    ".jfif": FileType.JPEG,
    ".png": FileType.PNG,
    ".webp": FileType.WEBP,
    ".gif": FileType.GIF,
    ".tif": FileType.TIFF,
    ".tiff": FileType.TIFF,
    ".heic": FileType.HEIF,
    ".heif": FileType.HEIF,
    ".hif": FileType.HEIF,
    ".pdf": FileType.PDF,
    ".mp4": FileType.MP4,
    ".m4v": FileType.MP4,
    ".mov": FileType.MOV,
    ".qt": FileType.MOV,
    ".m4a": FileType.M4A,
    ".ogg": FileType.OGG,
    ".oga": FileType.OGG,
    ".opus": FileType.OGG,
    ".mp3": FileType.MP3,
    ".docx": FileType.DOCX,
    ".xlsx": FileType.XLSX,
}
_CLAIMS_MIME = {mime: ftype for ftype, mime in _MIME.items()} | {
    "image/pjpeg": FileType.JPEG,
    "image/heif": FileType.HEIF,
    "audio/x-m4a": FileType.M4A,
    "audio/m4a": FileType.M4A,
    "audio/opus": FileType.OGG,
    "audio/mp3": FileType.MP3,
    "application/x-pdf": FileType.PDF,
}


@dataclass(frozen=True)
class Cleaned:
    """A file ready to store: its bytes, the type it was received as (None: another type,
    allowed by the config), whether its metadata was removed, and the type of the stored
    bytes (HEIC is stored as JPEG)."""

    data: bytes
    type: FileType | None
    metadata_removed: bool
    stored_type: FileType | None = None

    @property
    def output_type(self) -> FileType | None:
        return self.stored_type or self.type


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def strip_metadata(data: bytes, *, mime_type: str | None, file_name: str | None) -> bytes:
    """Re-encode an image without any metadata; non-images come back unchanged.

    Raises :class:`MediaError` for corrupt, truncated or oversized images (see module docstring).
    CPU-bound: call it through ``asyncio.to_thread`` from handlers.
    """
    claimed = _claims_image(data, mime_type, file_name)
    readable, writable = _plugin_formats()
    try:
        # Only our formats are tried: Pillow's weaker detectors (TGA, SPIDER, ...) would otherwise
        # claim arbitrary documents and turn them into MediaErrors.
        image = Image.open(io.BytesIO(data), formats=readable)
    except _unidentified():
        if claimed:
            raise MediaError("the file looks like an image but cannot be read") from None
        return data
    except Exception as exc:  # plugins raise OSError, SyntaxError, DecompressionBombError, ...
        raise MediaError(f"the image cannot be read ({type(exc).__name__})") from exc

    with image:
        out_format = _OUTPUT_FORMAT.get(image.format or "")
        if out_format is None or out_format not in writable:
            return data  # readable but not writable here: nothing we can strip safely
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise MediaError(f"the image is too large ({width}x{height} pixels)")
        frames = getattr(image, "n_frames", 1)
        if frames > MAX_FRAMES and out_format in _MULTI_FRAME:
            raise MediaError(f"the image has too many frames ({frames})")
        try:
            return _reencode(image, out_format)
        except MediaError:
            raise
        except Exception as exc:  # truncated data surfaces only when pixels are decoded
            raise MediaError(f"the image cannot be decoded ({type(exc).__name__})") from exc


def detect_type(data: bytes) -> FileType | None:
    """The accepted type the bytes are, by their magic numbers; None for anything else."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FileType.WEBP
    if head.startswith((b"GIF87a", b"GIF89a")):
        return FileType.GIF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileType.TIFF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return FileType.HEIF
        if brand == b"qt  ":
            return FileType.MOV
        if brand in (b"M4A ", b"M4B "):
            return FileType.M4A
        if brand in (b"avif", b"avis", b"crx "):
            return None
        return FileType.MP4  # isom, mp41, mp42, avc1, iso2..6, 3gp*, MSNV, M4V, ...
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # old QuickTime, no ftyp
        return FileType.MOV
    if head.startswith(b"OggS"):
        return FileType.OGG
    if head.startswith(b"ID3") or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2
    ):  # MPEG audio layer III sync
        return FileType.MP3
    if b"%PDF-" in data[:1024]:
        return FileType.PDF
    if head.startswith(b"PK\x03\x04"):
        found = office_type(data)
        return FileType(found) if found else None
    return None


def claimed_type(mime_type: str | None, file_name: str | None) -> FileType | None:
    """The accepted type a file says it is, by its MIME type or its file name's extension."""
    if mime_type:
        found = _CLAIMS_MIME.get(mime_type.split(";")[0].strip().lower())
        if found:
            return found
    if file_name and "." in file_name:
        return _CLAIMS_EXT.get(file_name[file_name.rfind(".") :].lower())
    return None


def clean(data: bytes, *, mime_type: str | None, file_name: str | None, allow_other: bool = False) -> Cleaned:
    """The file without its metadata, ready to store.

    Raises :class:`MediaError` when the file is (or claims to be) of an accepted type but
    cannot be cleaned, and :class:`UnsupportedType` for other types unless ``allow_other``.
    CPU- and subprocess-bound: call it through ``asyncio.to_thread`` from handlers.
    """
    ftype = detect_type(data)
    if ftype is None:
        if claimed_type(mime_type, file_name) is not None or not data:
            raise MediaError("the file's content does not match its type")
        if allow_other:
            return Cleaned(data, None, metadata_removed=False)
        raise UnsupportedType()
    try:
        if ftype.kind == "image":
            out = strip_metadata(data, mime_type=None, file_name=None)
            if out is data:  # read but not re-encoded: it must not pass as it came
                raise MediaError("the image could not be re-encoded")
        elif ftype is FileType.PDF:
            out = clean_pdf(data)
        elif ftype.value in AV_TYPES:
            out = clean_av(data, ftype.value)
        else:
            out = clean_office(data, clean_image=_clean_embedded_image)
    except CleaningError as exc:
        raise MediaError(str(exc)) from None
    return Cleaned(out, ftype, metadata_removed=True, stored_type=detect_type(out) or ftype)


def _clean_embedded_image(data: bytes) -> bytes:
    try:
        return strip_metadata(data, mime_type=None, file_name=None)
    except MediaError as exc:
        raise CleaningError(str(exc)) from None


_KIND_EXTENSIONS = {"photo": "jpg", "voice": "ogg", "video": "mp4", "audio": "mp3"}
MAX_NAME = 120


def delivery_name(original: str | None, file_type: str | None, kind: str, stem: str) -> str:
    """The name a file is given back under: its original name (without any folder, control
    characters or excessive length), or ``stem`` plus the extension of its type."""
    try:
        extension = FileType(file_type).extension if file_type else _KIND_EXTENSIONS.get(kind)
    except ValueError:
        extension = _KIND_EXTENSIONS.get(kind)
    name = (original or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    if not name:
        return f"{stem}.{extension}" if extension else stem
    base, dot, ext = name.rpartition(".")
    if not dot:
        base, ext = name, ""
    claimed = _CLAIMS_EXT.get(f".{ext.lower()}") if ext else None
    if not ext and extension:
        ext = extension
    elif file_type and claimed is not None and claimed.value != file_type and extension:
        ext = extension  # converted (HEIC stored as JPEG): the name says what the file is
    ext = ext[:10]
    base = base[: MAX_NAME - len(ext) - 1] or stem
    return f"{base}.{ext}" if ext else base


def sniff_kind(data: bytes, mime_type: str | None = None, file_name: str | None = None) -> MediaKind:
    """A coarse kind for a file: magic bytes first, then the MIME type, then the file name."""
    head = data[:32]
    if _image_magic(head):
        return "image"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (
            b"heic",
            b"heix",
            b"heim",
            b"heis",
            b"hevc",
            b"hevx",
            b"mif1",
            b"msf1",
            b"avif",
            b"avis",
        ):
            return "image"
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return "audio"
        return "video"  # isom, mp41, mp42, qt, 3gp*, ...
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return "video"
    if head.startswith((b"OggS", b"ID3", b"fLaC", b"#!AMR")) or head[:2] in (
        b"\xff\xfb",
        b"\xff\xf3",
        b"\xff\xf2",
    ):
        return "audio"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video"
    guessed = (mime_type or "").split(";")[0].strip().lower()
    if not guessed and file_name:
        guessed = (mimetypes.guess_type(file_name, strict=False)[0] or "").lower()
    major = guessed.split("/")[0]
    if major in ("image", "video", "audio"):
        return major  # type: ignore[return-value]
    return "document"


# --- internals ----------------------------------------------------------------------------------


@functools.cache
def _plugin_formats() -> tuple[list[str], frozenset[str]]:
    """Our formats this Pillow build can read, and those it can write (AVIF/HEIF vary)."""
    Image.init()
    return [f for f in _OUTPUT_FORMAT if f in Image.OPEN], frozenset(Image.SAVE)


def _image_magic(head: bytes) -> bool:
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*"))
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
        or (head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"))
        or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS)
    )


def _claims_image(data: bytes, mime_type: str | None, file_name: str | None) -> bool:
    """Whether the file says it is an image of a format we strip (then it must not pass as is)."""
    if _image_magic(data[:32]):
        return True
    if mime_type and mime_type.split(";")[0].strip().lower() in _IMAGE_MIME:
        return True
    if file_name:
        dot = file_name.rfind(".")
        if dot != -1 and file_name[dot:].lower() in _IMAGE_EXT:
            return True
    return False


def _reencode(image: Image.Image, out_format: str) -> bytes:
    multi = out_format in _MULTI_FRAME and getattr(image, "n_frames", 1) > 1
    sources: Iterable[Image.Image] = ImageSequence.Iterator(image) if multi else [image]
    frames: list[Image.Image] = []
    durations: list[Any] = []
    for frame in sources:
        durations.append(frame.info.get("duration"))
        frames.append(_clean_frame(frame, out_format))

    params = dict(_SAVE_PARAMS.get(out_format, {}))
    if len(frames) > 1:
        params.update(save_all=True, append_images=frames[1:])
        if all(isinstance(d, (int, float)) for d in durations):
            params["duration"] = durations
        if "loop" in image.info:
            params["loop"] = image.info["loop"]
    out = io.BytesIO()
    frames[0].save(out, format=out_format, **params)
    return out.getvalue()


def _clean_frame(frame: Image.Image, out_format: str) -> Image.Image:
    """A copy of the frame's pixels, upright, in sRGB, with no metadata attached."""
    icc = frame.info.get("icc_profile")
    transparency = frame.info.get("transparency")
    # exif_transpose always returns a new image (a copy when no rotation is needed), so the
    # opened file object, and plugin state such as TIFF tags, never reaches the encoder.
    clean = ImageOps.exif_transpose(frame)
    mode_before = clean.mode
    clean = _to_srgb(clean, icc)
    clean = _fit_mode(clean, out_format)
    # Encoders read several things from .info (comments, XMP, ICC, EXIF) — start from nothing.
    clean.info = {}
    if transparency is not None and clean.mode == mode_before and clean.mode in ("P", "L", "RGB"):
        clean.info["transparency"] = transparency
    return clean


_srgb_profile: Any = None


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Bake an embedded ICC profile into sRGB pixels (the profile itself is then dropped)."""
    global _srgb_profile
    cms = _image_cms()
    if not icc or cms is None or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        if _srgb_profile is None:
            _srgb_profile = cms.createProfile("sRGB")
        source = cms.ImageCmsProfile(io.BytesIO(icc))
        converted = cms.profileToProfile(
            image, source, _srgb_profile, outputMode="RGBA" if image.mode == "RGBA" else "RGB"
        )
    except Exception:  # noqa: BLE001 - a broken or mismatched profile: keep the pixels as they are
        return image
    return converted if converted is not None else image


def _flatten(image: Image.Image) -> Image.Image:
    """Composite anything with transparency onto white (JPEG has no alpha)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _fit_mode(image: Image.Image, out_format: str) -> Image.Image:
    mode = image.mode
    if out_format == "JPEG":
        if mode in ("L", "RGB", "CMYK"):
            return image
        if mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
            return _flatten(image)
        return image.convert("L" if mode in ("1", "I", "I;16", "I;16B", "I;16L", "F") else "RGB")
    if out_format in ("WEBP", "AVIF", "HEIF"):
        if mode in ("RGB", "RGBA"):
            return image
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if out_format == "PNG" and mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return image.convert("RGB")
    return image
