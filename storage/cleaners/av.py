"""Video and audio: container metadata removed by remuxing with ffmpeg, streams copied as they are.

The ffmpeg binary comes with the ``imageio-ffmpeg`` wheel, so nothing is installed separately.
What goes: global, per-stream and chapter metadata — in MP4/MOV the udta/meta atoms where
phones put the GPS position (``©xyz``, ``com.apple.quicktime.location.ISO6709``), device make
and model, software and creation time; ID3 tags in MP3; Vorbis comments in OGG. Cover art,
subtitles, data and timecode tracks are left out (they can carry the same). ``bitexact`` keeps
ffmpeg from writing its own name and version.

Safety: the input format is forced from the magic bytes already checked (an HLS playlist named
``.mp4`` cannot make ffmpeg open URLs or other files), only the ``file`` protocol is allowed,
ffmpeg runs with a timeout, and the input and output live in a private temporary directory
that is always removed.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile

from storage.cleaners import CleaningError

# Demuxer to force, muxer to write, and muxer options, per type id of storage.media.FileType.
_FORMATS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "mp4": ("mov", "mp4", ("-write_tmcd", "0")),
    "mov": ("mov", "mov", ("-write_tmcd", "0")),
    "m4a": ("mov", "ipod", ()),
    "ogg": ("ogg", "ogg", ()),
    "mp3": ("mp3", "mp3", ("-id3v2_version", "0", "-write_id3v1", "0")),
}
TYPES = frozenset(_FORMATS)
TIMEOUT_SECONDS = 120.0  # a 20 MB remux takes well under a second; this only stops a hang


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # imported late: it looks for the binary on import of its helpers

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def clean_av(data: bytes, type_id: str, *, timeout: float | None = None) -> bytes:
    """A copy of the media file without metadata; raises CleaningError on any failure."""
    try:
        demuxer, muxer, options = _FORMATS[type_id]
    except KeyError:
        raise CleaningError(f"no media cleaner for {type_id}") from None
    with tempfile.TemporaryDirectory(prefix="kua-media-") as workdir:  # mode 0700
        source = os.path.join(workdir, "in")
        target = os.path.join(workdir, "out")
        with open(source, "wb") as fh:
            fh.write(data)
        command = [
            ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-protocol_whitelist",
            "file",
            "-f",
            demuxer,
            "-i",
            source,
            "-map",
            "0:V?",
            "-map",
            "0:a?",  # video and audio only (V: not cover art)
            "-map_metadata",
            "-1",
            "-map_metadata:s",
            "-1",
            "-map_chapters",
            "-1",
            "-c",
            "copy",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            *options,
            "-f",
            muxer,
            "-y",
            target,
        ]
        try:
            result = subprocess.run(  # noqa: S603 - a list (no shell): ffmpeg, fixed options, our temp files
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=TIMEOUT_SECONDS if timeout is None else timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CleaningError("cleaning the media file timed out") from None
        except OSError as exc:
            raise CleaningError(f"ffmpeg could not be run ({type(exc).__name__})") from None
        if result.returncode != 0:
            # stderr may quote tags from the file: only the exit code goes into the message.
            raise CleaningError(f"ffmpeg could not read the file (exit {result.returncode})")
        try:
            with open(target, "rb") as fh:
                out = fh.read()
        except OSError:
            raise CleaningError("ffmpeg wrote nothing") from None
        if not out:
            raise CleaningError("ffmpeg wrote nothing")
        return out
