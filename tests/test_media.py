from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, ImageChops, ImageCms, ImageSequence
from PIL.PngImagePlugin import PngInfo

from storage import media
from storage.media import MediaError, sha256_hex, sniff_kind, strip_metadata

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION, ARTIST = 0x010F, 0x0110, 0x0112, 0x013B
MARKERS = (b"KuaMake", b"KuaModel", b"KuaXmp", b"KuaComment", b"Exif\x00\x00")


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "KuaMake"
    exif[MODEL] = "KuaModel"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (43.0, 15.0, 30.0), 3: "E", 4: (76.0, 57.0, 0.0)}
    return exif


def gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    w, h = size
    im = Image.new("RGB", size)
    im.putdata([((x * 255) // w, (y * 255) // h, 128) for y in range(h) for x in range(w)])
    return im.convert(mode)


def jpeg_with_gps(orientation: int = 6) -> bytes:
    buf = io.BytesIO()
    gradient((40, 20)).save(
        buf,
        "JPEG",
        exif=camera_exif(orientation),
        comment=b"KuaComment",
        xmp=b"<x:xmpmeta>KuaXmp</x:xmpmeta>",
        quality=95,
    )
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    buf = io.BytesIO()
    gradient((300, 200)).save(buf, "JPEG")
    data = buf.getvalue()
    return data[: len(data) // 2]  # the header parses; pixel decoding runs out of data


def reopen(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def assert_no_metadata(data: bytes) -> None:
    for marker in MARKERS:
        assert marker not in data, marker
    im = reopen(data)
    exif = im.getexif()
    assert dict(exif) == {}
    assert dict(exif.get_ifd(GPS_IFD)) == {}
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile", "Author", "Comment"):
        assert key not in im.info, key


def test_jpeg_exif_gps_xmp_and_comment_are_removed() -> None:
    original = jpeg_with_gps()
    # The fixture really carries what we strip.
    for marker in MARKERS:
        assert marker in original
    src = reopen(original)
    assert src.getexif()[MAKE] == "KuaMake"
    assert src.getexif().get_ifd(GPS_IFD)[1] == "N"

    out = strip_metadata(original, mime_type="image/jpeg", file_name="IMG_0001.JPG")

    assert_no_metadata(out)
    im = reopen(out)
    assert im.format == "JPEG"
    # Orientation 6 (rotate 90°) was applied to the pixels: 40x20 becomes 20x40.
    assert im.size == (20, 40)


def test_jpeg_without_orientation_keeps_size_and_pixels_roughly() -> None:
    original = jpeg_with_gps(orientation=1)
    out = strip_metadata(original, mime_type=None, file_name=None)
    assert_no_metadata(out)
    before, after = reopen(original).convert("RGB"), reopen(out).convert("RGB")
    assert after.size == before.size == (40, 20)
    # Re-encoded at quality 90: close to the original, not identical.
    diff = ImageChops.difference(before, after).getextrema()
    assert all(isinstance(band, tuple) and band[1] < 40 for band in diff)  # (low, high) per band


def test_camera_mpo_keeps_only_the_main_image_without_exif() -> None:
    buf = io.BytesIO()
    first = gradient((30, 10))
    first.save(buf, "MPO", save_all=True, append_images=[gradient((15, 5))], exif=camera_exif())
    original = buf.getvalue()
    assert reopen(original).format == "MPO"

    out = strip_metadata(original, mime_type="image/jpeg", file_name="photo.jpg")

    assert_no_metadata(out)
    im = reopen(out)
    assert (im.format, getattr(im, "n_frames", 1), im.size) == ("JPEG", 1, (30, 10))


def test_png_text_chunks_and_exif_are_removed_pixels_unchanged() -> None:
    info = PngInfo()
    info.add_text("Author", "KuaPngAuthor")
    info.add_text("Comment", "KuaPngComment", zip=True)
    info.add_itxt("Description", "KuaPngItxt", lang="ru", tkey="Описание")
    src = gradient((17, 9), "RGBA")
    buf = io.BytesIO()
    src.save(buf, "PNG", pnginfo=info, exif=camera_exif())
    original = buf.getvalue()
    assert b"KuaPngAuthor" in original and b"tEXt" in original and b"eXIf" in original

    out = strip_metadata(original, mime_type="image/png", file_name="scan.png")

    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"KuaPng"):
        assert chunk not in out, chunk
    assert_no_metadata(out)
    im = reopen(out)
    assert im.format == "PNG" and im.mode == "RGBA" and im.size == (17, 9)
    assert im.tobytes() == src.tobytes()  # lossless stays lossless


def test_icc_profile_is_converted_and_dropped() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for fmt in ("PNG", "JPEG"):
        buf = io.BytesIO()
        gradient((8, 8)).save(buf, fmt, icc_profile=icc)
        assert "icc_profile" in reopen(buf.getvalue()).info

        out = strip_metadata(buf.getvalue(), mime_type=None, file_name=None)

        im = reopen(out)
        assert "icc_profile" not in im.info
        assert im.size == (8, 8)


def test_webp_exif_and_xmp_are_removed() -> None:
    buf = io.BytesIO()
    gradient((12, 6)).save(buf, "WEBP", exif=camera_exif(orientation=8), xmp=b"<x:xmpmeta>KuaXmp</x:xmpmeta>")
    original = buf.getvalue()
    assert b"KuaMake" in original and b"KuaXmp" in original

    out = strip_metadata(original, mime_type="image/webp", file_name=None)

    assert_no_metadata(out)
    im = reopen(out)
    assert im.format == "WEBP" and im.size == (6, 12)  # orientation 8 = rotate 270°


def test_tiff_tags_are_removed() -> None:
    buf = io.BytesIO()
    gradient((10, 5)).save(buf, "TIFF", tiffinfo={MAKE: "KuaMake", ARTIST: "KuaArtist"})
    original = buf.getvalue()
    assert b"KuaMake" in original and b"KuaArtist" in original

    out = strip_metadata(original, mime_type="image/tiff", file_name="a.tif")

    assert b"KuaMake" not in out and b"KuaArtist" not in out
    im = reopen(out)
    assert im.format == "TIFF" and im.size == (10, 5)
    assert MAKE not in im.getexif() and ARTIST not in im.getexif()


def test_animated_gif_keeps_frames_and_timing_but_not_comment() -> None:
    frames = [Image.new("RGB", (10, 10), (i * 80, 0, 0)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(
        buf,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=b"KuaComment",
    )
    original = buf.getvalue()
    assert b"KuaComment" in original

    out = strip_metadata(original, mime_type="image/gif", file_name="a.gif")

    assert b"KuaComment" not in out
    im = Image.open(io.BytesIO(out))
    assert getattr(im, "n_frames", 1) == 3
    assert [f.info.get("duration") for f in ImageSequence.Iterator(im)] == [100, 200, 300]
    assert "comment" not in im.info


@pytest.mark.parametrize(
    ("data", "mime_type", "file_name"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf", "a.pdf"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64, "video/mp4", "v.mp4"),
        (b"OggS\x00\x02" + b"\x00" * 64, "audio/ogg", None),
        (b"just some text", None, None),
        (b"", None, None),
    ],
)
def test_non_images_pass_through_unchanged(data: bytes, mime_type: str | None, file_name: str | None) -> None:
    assert strip_metadata(data, mime_type=mime_type, file_name=file_name) is data


@pytest.mark.parametrize(
    ("data", "mime_type", "file_name"),
    [
        (jpeg_with_gps()[:300], "image/jpeg", "cut.jpg"),  # cut inside the header
        (truncated_jpeg(), None, None),  # header ok, pixels missing
        (b"\xff\xd8\xff\xe0" + b"garbage" * 20, None, None),  # JPEG magic, nothing else
        (b"not an image at all", "image/jpeg", None),  # claims to be an image by MIME type
        (b"not an image at all", None, "holiday.PNG"),  # ... or by file name
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, None, None),
        # HEIC is read through pillow-heif now: a broken one must not pass as it came.
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "image/heic", "a.heic"),
    ],
)
def test_corrupt_images_raise_media_error(data: bytes, mime_type: str | None, file_name: str | None) -> None:
    with pytest.raises(MediaError):
        strip_metadata(data, mime_type=mime_type, file_name=file_name)


def test_oversized_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media, "MAX_PIXELS", 100)
    with pytest.raises(MediaError, match="too large"):
        strip_metadata(jpeg_with_gps(), mime_type="image/jpeg", file_name=None)


def test_sha256_hex() -> None:
    assert sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_sniff_kind() -> None:
    assert sniff_kind(jpeg_with_gps()) == "image"
    assert sniff_kind(b"\x00\x00\x00\x18ftypheic") == "image"
    assert sniff_kind(b"\x00\x00\x00\x18ftypisom") == "video"
    assert sniff_kind(b"OggS\x00") == "audio"
    assert sniff_kind(b"%PDF-1.4") == "document"
    assert sniff_kind(b"????", "video/quicktime") == "video"
    assert sniff_kind(b"????", None, "voice.mp3") == "audio"
    assert sniff_kind(b"????", None, "notes.docx") == "document"
