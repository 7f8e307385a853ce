"""Benchmark: metadata cleaning time per file type for a ~5 MB and a ~20 MB file. Figures only.

    .venv/bin/python scripts/bench_media.py [--sizes 5,20] [--repeat 3] [--types mp4,pdf]

Run from the repository root. Files are generated (noise, so they do not compress) into a
temporary directory that is removed afterwards; generating them takes longer than cleaning.
Each figure is the median of --repeat runs of ``storage.media.clean`` — what the bot runs off
the event loop for every incoming file. Timings depend on the machine and on what else it is
doing: compare runs on the same machine, and never turn these figures into assertions.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pikepdf  # noqa: E402
from PIL import Image  # noqa: E402

from storage.cleaners.av import ffmpeg_exe  # noqa: E402
from storage.media import MediaError, clean  # noqa: E402

MB = 1024 * 1024


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "BenchMake"
    exif[0x8825] = {1: "N", 2: (43.0, 15.0, 30.0), 3: "E", 4: (76.0, 57.0, 0.0)}
    return exif


def _noise_image(pixels: int) -> Image.Image:
    width = max(16, int((pixels * 4 / 3) ** 0.5))
    height = max(16, pixels // width)
    return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))


def _photo_like(pixels: int) -> Image.Image:
    """A gradient with grain: compresses like a photo (pure noise trips the HEVC decoder)."""
    width = max(16, int((pixels * 4 / 3) ** 0.5)) // 8 * 8
    height = max(16, pixels // width) // 8 * 8
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    return Image.blend(base, Image.effect_noise((width, height), 20).convert("RGB"), 0.3)


def _image(fmt: str, bytes_per_pixel: float) -> Callable[[int], bytes]:
    def make(target: int) -> bytes:
        buf = io.BytesIO()
        params: dict[str, object] = {"exif": _exif().tobytes()}
        if fmt in ("JPEG", "WEBP", "HEIF"):
            params["quality"] = 90
        if fmt == "HEIF":  # HEVC encoding of the fixture itself would take minutes otherwise
            params["enc_params"] = {"preset": "ultrafast"}
        pixels = int(target / bytes_per_pixel)
        if fmt == "HEIF":
            # One HEVC picture stops at ~35 Mpx (HEVC level 6.2); cameras tile larger photos in a
            # grid, which pillow-heif's encoder does not: 24 Mpx is the largest fixture here.
            pixels = min(pixels, 24_000_000)
        image = _photo_like(pixels) if fmt == "HEIF" else _noise_image(pixels)
        image.save(buf, fmt, **params)
        return buf.getvalue()

    return make


def _ffmpeg(workdir: Path, args: list[str], suffix: str) -> bytes:
    target = workdir / f"bench{suffix}"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            *args,
            "-metadata",
            "location=+43.2567+076.9286/",
            "-metadata",
            "comment=bench",
            "-y",
            str(target),
        ],
        check=True,
        timeout=600,
    )
    data = target.read_bytes()
    target.unlink()
    return data


def _av(workdir: Path, suffix: str, codec: list[str], bitrate: int, video: bool) -> Callable[[int], bytes]:
    def make(target: int) -> bytes:
        seconds = max(1.0, target * 8 / bitrate)
        if video:
            source = [
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size=640x360:rate=25:duration={seconds:.1f},noise=alls=60:allf=t",
                "-f",
                "lavfi",
                "-i",
                f"sine=duration={seconds:.1f}",
                "-shortest",
            ]
        else:
            source = ["-f", "lavfi", "-i", f"anoisesrc=duration={seconds:.1f}:amplitude=0.5"]
        return _ffmpeg(workdir, [*source, *codec], suffix)

    return make


def _pdf(target: int) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    pdf.pages[0].obj["/Resources"] = pikepdf.Dictionary(
        XObject=pikepdf.Dictionary(Im0=pdf.make_stream(os.urandom(target)))
    )
    pdf.docinfo["/Author"] = "Bench Author"
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    return buf.getvalue()


def _docx(target: int) -> bytes:
    buf = io.BytesIO()
    picture = _image("JPEG", 1.1)(target)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.'
            'openxmlformats.org/package/2006/content-types"/>',
        )
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("docProps/core.xml", "<cp:coreProperties>Bench Author</cp:coreProperties>")
        zf.writestr("word/media/image1.jpg", picture)
    return buf.getvalue()


def makers(workdir: Path) -> dict[str, Callable[[int], bytes]]:
    return {
        "jpeg": _image("JPEG", 1.1),
        "png": _image("PNG", 3.0),
        "webp": _image("WEBP", 1.2),
        "heic": _image("HEIF", 0.55),
        "pdf": _pdf,
        "mp4": _av(workdir, ".mp4", ["-c:v", "mpeg4", "-b:v", "4M", "-c:a", "aac"], 10_500_000, True),
        "mov": _av(workdir, ".mov", ["-c:v", "mpeg4", "-b:v", "4M", "-c:a", "aac"], 10_500_000, True),
        "m4a": _av(workdir, ".m4a", ["-c:a", "aac", "-b:a", "256k"], 256_000, False),
        "ogg": _av(workdir, ".ogg", ["-c:a", "libopus", "-b:a", "256k"], 256_000, False),
        "mp3": _av(workdir, ".mp3", ["-c:a", "libmp3lame", "-b:a", "320k"], 320_000, False),
        "docx": _docx,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5,20", help="target sizes in MB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--types", default="", help="only these types, comma-separated")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="kua-bench-media-") as tmp:
        table = makers(Path(tmp))
        wanted = [t for t in args.types.split(",") if t] or list(table)
        print(f"{'type':6} {'size':>9} {'clean (median)':>15} {'min':>8} {'max':>8}  result")
        for name in wanted:
            for size in sizes:
                data = table[name](size * MB)
                times = []
                try:
                    for _ in range(args.repeat):
                        start = time.perf_counter()
                        cleaned = clean(data, mime_type=None, file_name=None)
                        times.append(time.perf_counter() - start)
                except MediaError as exc:
                    print(f"{name:6} {len(data) / MB:8.1f}M  refused: {exc}", flush=True)
                    continue
                print(
                    f"{name:6} {len(data) / MB:8.1f}M {statistics.median(times):14.3f}s "
                    f"{min(times):7.3f}s {max(times):7.3f}s  "
                    f"{cleaned.type} → {cleaned.output_type} {len(cleaned.data) / MB:.1f}M",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
