"""PDF: the document information dictionary and every XMP metadata stream removed (pikepdf).

Pages, fonts and images are written back as they were. The file is rewritten as a whole, so
earlier revisions (incremental updates that still carry an old author) and unreferenced objects
are dropped too; the trailer's /ID, which some writers derive from the file's path and the time,
is replaced by one computed from the content.

Not removed: metadata *inside* embedded images (a scanned JPEG's own EXIF) and names written on
the pages themselves.
"""

from __future__ import annotations

import io

from storage.cleaners import CleaningError

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
            out = io.BytesIO()
            pdf.save(out, fix_metadata_version=False, deterministic_id=True)
            return out.getvalue()
    except CleaningError:
        raise
    except pikepdf.PasswordError:
        raise CleaningError("the PDF is protected by a password") from None
    except Exception as exc:  # noqa: BLE001 - a damaged PDF raises anything: PdfError, ValueError, struct errors
        raise CleaningError(f"the PDF cannot be read ({type(exc).__name__})") from None
