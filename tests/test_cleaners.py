"""Every accepted file type loses its identifying metadata and still opens; anything else is
refused (or, when allowed, marked); a file that cannot be cleaned is never passed on as it came.

Fixtures are generated (tests/media_fixtures.py): each carries a marker and a GPS position."""

from __future__ import annotations

import io
import os
import re
import subprocess
import zipfile
from collections.abc import Callable

import pikepdf
import pytest
from PIL import Image

from storage.cleaners import CleaningError, av
from storage.cleaners.av import ffmpeg_exe
from storage.cleaners.jpeg import strip_jpeg_metadata
from storage.media import FileType, MediaError, UnsupportedType, clean, detect_type
from tests import media_fixtures as fx
from tests.sample import jpeg_with_gps

AV_FIXTURES: dict[str, tuple[Callable[[], bytes], FileType]] = {
    "mp4": (fx.mp4_with_gps, FileType.MP4),
    "mov": (fx.mov_with_gps, FileType.MOV),
    "m4a": (fx.m4a_with_tags, FileType.M4A),
    "ogg": (fx.ogg_voice_with_tags, FileType.OGG),
    "mp3": (fx.mp3_with_tags, FileType.MP3),
}
ALL_FIXTURES: dict[str, tuple[Callable[[], bytes], FileType]] = {
    **AV_FIXTURES,
    "heic": (fx.heic_with_gps, FileType.HEIF),
    "pdf": (fx.pdf_with_author, FileType.PDF),
    "docx": (fx.docx_with_author, FileType.DOCX),
    "xlsx": (fx.xlsx_with_author, FileType.XLSX),
}


def _ffmpeg(data: bytes, *args: str, tmp_path) -> subprocess.CompletedProcess[bytes]:
    source = tmp_path / "probe.bin"
    source.write_bytes(data)
    return subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(source), *args],
        capture_output=True,
        timeout=60,
        check=False,
    )


def stream_hashes(data: bytes, tmp_path) -> str:
    """A hash of every stream's packets: equal before and after means the streams were copied."""
    result = _ffmpeg(
        data, "-map", "0:V?", "-map", "0:a?", "-c", "copy", "-f", "streamhash", "-", tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr[-300:]
    return result.stdout.decode()


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_fixture_really_carries_the_marker_and_is_recognised(name: str) -> None:
    make, ftype = ALL_FIXTURES[name]
    data = make()
    assert fx.contains_marker(data)
    assert detect_type(data) is ftype


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_cleaned_file_has_no_marker_and_keeps_its_type(name: str) -> None:
    make, ftype = ALL_FIXTURES[name]
    cleaned = clean(make(), mime_type=None, file_name=None)
    assert cleaned.type is ftype and cleaned.metadata_removed
    assert not fx.contains_marker(cleaned.data)
    stored_as = FileType.JPEG if ftype is FileType.HEIF else ftype  # see storage.media
    assert detect_type(cleaned.data) is stored_as and cleaned.output_type is stored_as


@pytest.mark.parametrize("name", sorted(AV_FIXTURES))
def test_video_and_audio_streams_are_copied_bit_for_bit_and_decode(name: str, tmp_path) -> None:
    original = AV_FIXTURES[name][0]()
    out = clean(original, mime_type=None, file_name=None).data
    assert stream_hashes(out, tmp_path) == stream_hashes(original, tmp_path)
    decoded = _ffmpeg(out, "-f", "null", "-", tmp_path=tmp_path)
    assert decoded.returncode == 0
    info = decoded.stderr.decode()
    assert "Stream #0:0" in info
    # No tags, no GPS, no creation time left for ffmpeg to report.
    for key in ("location", "comment", "title", "artist", "creation_time", "make", "model"):
        assert not re.search(rf"^\s+{key}\s*:", info, re.MULTILINE | re.IGNORECASE), key


def test_mp4_gps_atom_and_device_tags_are_gone() -> None:
    original = fx.mp4_with_gps()
    assert b"loci" in original  # the 3GPP location atom (binary coordinates)
    out = clean(original, mime_type="video/mp4", file_name="IMG_0042.MP4").data
    assert b"loci" not in out and b"\xa9xyz" not in out and b"Lavf" not in out
    mov = clean(fx.mov_with_gps(), mime_type="video/quicktime", file_name="IMG_0043.MOV").data
    assert b"com.apple.quicktime" not in mov


def test_heic_is_stored_as_jpeg_without_exif_gps_and_xmp() -> None:
    original = fx.heic_with_gps()
    src = Image.open(io.BytesIO(original))
    assert src.getexif()[fx.MAKE] == fx.MARKER and src.info.get("xmp")

    out = clean(original, mime_type="image/heic", file_name="IMG_0001.HEIC").data

    im = Image.open(io.BytesIO(out))
    im.load()
    assert im.format == "JPEG" and im.size == (64, 48)
    assert dict(im.getexif()) == {} and not im.info.get("exif") and not im.info.get("xmp")
    pixel = im.convert("RGB").getpixel((32, 24))
    assert isinstance(pixel, tuple)
    r, g, b = pixel
    assert r > 150 and g < 80 and b < 80  # the picture is still the picture


def test_pdf_loses_docinfo_and_xmp_pages_untouched() -> None:
    original = fx.pdf_with_author()
    out = clean(original, mime_type="application/pdf", file_name="akt.pdf").data
    with pikepdf.open(io.BytesIO(original)) as before, pikepdf.open(io.BytesIO(out)) as after:
        assert "/Author" in before.docinfo and "/Metadata" in before.Root
        assert "/Info" not in after.trailer and "/Metadata" not in after.Root
        assert len(after.pages) == len(before.pages) == 1
        assert after.pages[0].mediabox == before.pages[0].mediabox
        assert (after.pages[0].obj.get("/Contents") is None) == (before.pages[0].obj.get("/Contents") is None)


def test_a_photo_inside_a_pdf_loses_its_exif_and_gps_and_not_a_pixel() -> None:
    original = fx.pdf_with_gps_photo()
    assert b"KuaMake" in original
    out = clean(original, mime_type="application/pdf", file_name="scan.pdf").data
    assert b"KuaMake" not in out and b"Exif" not in out
    with pikepdf.open(io.BytesIO(original)) as before, pikepdf.open(io.BytesIO(out)) as after:
        old_stream, new_stream = before.pages[0].Resources.XObject.Im0, after.pages[0].Resources.XObject.Im0
        assert isinstance(old_stream, pikepdf.Stream) and isinstance(new_stream, pikepdf.Stream)
        old = pikepdf.PdfImage(old_stream).as_pil_image()
        new = pikepdf.PdfImage(new_stream).as_pil_image()
        assert new.size == old.size and new.tobytes() == old.tobytes()  # lossless: same picture
        raw = new_stream.read_raw_bytes()
        assert not Image.open(io.BytesIO(raw)).getexif()


def test_jpeg_segments_keep_the_picture_and_colour_and_drop_metadata() -> None:
    photo = jpeg_with_gps()
    icc = b"\xff\xe2" + (2 + 16).to_bytes(2, "big") + b"ICC_PROFILE\x00\x01\x01zz"
    comment = b"\xff\xfe" + (2 + 9).to_bytes(2, "big") + b"KuaAuthor"
    photo = photo[:2] + icc + comment + photo[2:]
    stripped = strip_jpeg_metadata(photo)
    assert b"ICC_PROFILE" in stripped  # the colour profile stays
    assert b"KuaAuthor" not in stripped and b"Exif" not in stripped and b"KuaMake" not in stripped
    assert Image.open(io.BytesIO(stripped)).tobytes() == Image.open(io.BytesIO(photo)).tobytes()
    for broken in (b"GIF89a", photo[:40], photo[:2] + b"\xff\xe1\xff\xff" + photo[2:20]):
        with pytest.raises(CleaningError):
            strip_jpeg_metadata(broken)


def test_office_properties_are_emptied_document_and_pictures_kept() -> None:
    for make, main in ((fx.docx_with_author, "word/document.xml"), (fx.xlsx_with_author, "xl/workbook.xml")):
        original = make()
        out = clean(original, mime_type=None, file_name="file.docx").data
        with zipfile.ZipFile(io.BytesIO(original)) as a, zipfile.ZipFile(io.BytesIO(out)) as b:
            assert b.testzip() is None
            assert a.namelist() == b.namelist()  # [Content_Types].xml stays first
            assert a.read(main) == b.read(main)
            assert b"creator" not in b.read("docProps/core.xml")
            assert b"Company" not in b.read("docProps/app.xml")
            assert {i.date_time for i in b.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            media = next(n for n in b.namelist() if "/media/" in n)
            picture = Image.open(io.BytesIO(b.read(media)))
            assert dict(picture.getexif()) == {} and picture.size == (16, 16)


def _corrupt(name: str) -> list[bytes]:
    """The header followed by garbage; and, where that is damage, the first half only (half
    an OGG or MP3 stream of packets is still a valid, shorter stream)."""
    data = ALL_FIXTURES[name][0]()
    garbage = data[:40] + b"\x00garbage" * 40
    return [garbage] if name in ("ogg", "mp3") else [garbage, data[: len(data) // 2]]


@pytest.mark.parametrize("name", sorted(ALL_FIXTURES))
def test_corrupt_file_of_each_type_raises_media_error(name: str) -> None:
    ftype = ALL_FIXTURES[name][1]
    for data in _corrupt(name):
        with pytest.raises(MediaError):
            clean(data, mime_type=ftype.mime_type, file_name=f"x.{ftype.extension}")
    # Not the type it claims to be: refused as unreadable, never stored as it came.
    with pytest.raises(MediaError):
        clean(b"just some text", mime_type=None, file_name=f"x.{ftype.extension}")
    with pytest.raises(MediaError):
        clean(b"just some text", mime_type=ftype.mime_type, file_name=None, allow_other=True)


def test_other_types_are_refused_unless_allowed() -> None:
    zip_buf = io.BytesIO()
    with zipfile.ZipFile(zip_buf, "w") as zf:
        zf.writestr("a.txt", "x")
    for data, name in (
        (b"plain text notes", "notes.txt"),
        (zip_buf.getvalue(), "a.zip"),
        (b"\x1a\x45\xdf\xa3webm-ish", "v.webm"),
    ):
        with pytest.raises(UnsupportedType):
            clean(data, mime_type=None, file_name=name)
        kept = clean(data, mime_type=None, file_name=name, allow_other=True)
        assert kept.data is data and kept.type is None and not kept.metadata_removed


def test_empty_file_is_unreadable() -> None:
    with pytest.raises(MediaError):
        clean(b"", mime_type=None, file_name=None, allow_other=True)


def test_ffmpeg_timeout_is_a_media_error_and_leaves_no_temp_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setattr(av, "TIMEOUT_SECONDS", 0.000001)
    with pytest.raises(MediaError, match="timed out"):
        clean(fx.mp4_with_gps(), mime_type=None, file_name=None)
    monkeypatch.setattr(av, "TIMEOUT_SECONDS", 60.0)
    clean(fx.ogg_voice_with_tags(), mime_type=None, file_name=None)
    with pytest.raises(MediaError):
        clean(_corrupt("mp4")[0], mime_type=None, file_name=None)
    assert os.listdir(tmp_path) == []


def test_error_messages_never_quote_the_file() -> None:
    bad = fx.mp4_with_gps()[:200]
    with pytest.raises(MediaError) as caught:
        clean(bad, mime_type=None, file_name=None)
    assert fx.MARKER not in str(caught.value)
