"""PDF: the document information dictionary and every XMP metadata stream removed (pikepdf).

Pages, fonts and images are written back as they were, except that the JPEG pictures inside
(a phone's scan of a document is one: its own EXIF may hold the camera, the time and where it
was taken) lose their metadata segments, losslessly (storage/cleaners/jpeg.py). The file is
rewritten as a whole, so earlier revisions (incremental updates that still carry an old author)
and unreferenced objects are dropped too; the trailer's /ID, which some writers derive from the
file's path and the time, is replaced by one computed from the content.

Not removed: metadata inside pictures of other encodings (JPEG 2000 boxes, rare in phone scans)
and names written on the pages themselves.
"""

from __future__ import annotations

import io
from typing import Any

from storage.cleaners import CleaningError
from storage.cleaners.jpeg import strip_jpeg_metadata

_METADATA_KEYS = ("/Metadata", "/PieceInfo")


def clean_pdf(data: bytes) -> bytes:
    import pikepdf  # at the first PDF, not at start-up (docs/performance.md)

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) == 0:
                raise CleaningError("the PDF has no pages")
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for obj in pdf.objects:
                if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                    for key in _METADATA_KEYS:
                        if key in obj:
                            del obj[key]
                if isinstance(obj, pikepdf.Stream) and _is_jpeg_image(obj):
                    parms = obj.get("/DecodeParms")
                    cleaned = strip_jpeg_metadata(obj.read_raw_bytes())
                    if isinstance(parms, (pikepdf.Dictionary, pikepdf.Array)):
                        obj.write(cleaned, filter=pikepdf.Name.DCTDecode, decode_parms=parms)
                    else:
                        obj.write(cleaned, filter=pikepdf.Name.DCTDecode)
            out = io.BytesIO()
            pdf.save(out, fix_metadata_version=False, deterministic_id=True)
            return out.getvalue()
    except CleaningError:
        raise
    except pikepdf.PasswordError:
        raise CleaningError("the PDF is protected by a password") from None
    except Exception as exc:  # noqa: BLE001 - a damaged PDF raises anything: PdfError, ValueError, struct errors
        raise CleaningError(f"the PDF cannot be read ({type(exc).__name__})") from None


def _is_jpeg_image(stream: Any) -> bool:
    """An image stream whose only filter is DCT: its raw bytes are a JPEG file."""
    import pikepdf

    if stream.get("/Subtype") != pikepdf.Name.Image:
        return False
    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array):
        if len(filters) != 1:
            return False
        filters = filters[0]
    return bool(filters == pikepdf.Name.DCTDecode)
