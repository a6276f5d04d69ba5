"""Photos and voice notes of reports (附件): the type from the content, what a photo says about
itself, a thumbnail, and a public copy without metadata.

- ``sniff`` names the type from the first bytes, never from the file name or the client's
  Content-Type: JPEG, PNG, WebP images; AMR, MP3, AAC/M4A (MP4 audio), Ogg (Opus/Vorbis), WAV
  and WebM (what phones and browsers record) voice notes. Anything else is refused by the caller.
- ``inspect_image`` decodes an image once, inside a pixel budget (a decompression bomb is refused
  before its pixels are allocated), and reads its EXIF: when it was taken (DateTimeOriginal with
  its UTC offset when the camera wrote one) and where (the GPS position, WGS-84 as EXIF defines
  it). Report integrity (issue 6) compares these with the report; they stay internal.
- ``thumbnail`` is a small JPEG, turned upright by the EXIF orientation, with no metadata.
- ``public_copy`` re-encodes the image upright and without EXIF/XMP (GPS and camera data are
  gone), for anything shown to the public.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from gridcity.domain.errors import InvalidInput

MAX_PIXELS = 50_000_000  # a 50-megapixel photo; phones take 12–48
THUMBNAIL_PX = 320
HEAD_BYTES = 64  # enough of the start of a file for sniff()


class MediaKind(StrEnum):
    """What an attachment is."""

    IMAGE = "image"
    AUDIO = "audio"


@dataclass(frozen=True)
class MediaType:
    """A sniffed type: the extension it is stored under, its MIME type, its kind."""

    ext: str
    mime: str
    kind: MediaKind


JPEG = MediaType("jpg", "image/jpeg", MediaKind.IMAGE)
PNG = MediaType("png", "image/png", MediaKind.IMAGE)
WEBP = MediaType("webp", "image/webp", MediaKind.IMAGE)
AMR = MediaType("amr", "audio/amr", MediaKind.AUDIO)
MP3 = MediaType("mp3", "audio/mpeg", MediaKind.AUDIO)
M4A = MediaType("m4a", "audio/mp4", MediaKind.AUDIO)
OGG = MediaType("ogg", "audio/ogg", MediaKind.AUDIO)
WAV = MediaType("wav", "audio/wav", MediaKind.AUDIO)
WEBM = MediaType("webm", "audio/webm", MediaKind.AUDIO)
# MP4 brands of audio recordings (Safari's MediaRecorder, phone voice memos, iTunes audio)
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"mp42", b"isom", b"iso5", b"iso6", b"dash", b"mp41"}
_PIL_FORMATS = {"JPEG": JPEG, "PNG": PNG, "WEBP": WEBP}


def _is_mp3(head: bytes) -> bool:
    """An ID3 tag, or an MPEG audio frame header (11 sync bits, layer III)."""
    if head.startswith(b"ID3"):
        return True
    return (
        len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) == 0x02
    )


def sniff(head: bytes) -> MediaType | None:
    """The type the first bytes (``HEAD_BYTES`` of them suffice) show, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"#!AMR\n") or head.startswith(b"#!AMR-WB\n"):
        return AMR
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:HEAD_BYTES]:
        return WEBM
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_AUDIO_BRANDS:
        return M4A
    if _is_mp3(head):
        return MP3
    return None


@dataclass(frozen=True)
class ImageInfo:
    """What a decoded photo says about itself (EXIF fields are None when absent or unreadable)."""

    media: MediaType
    width: int
    height: int
    taken_at: datetime | None  # aware when the camera wrote its UTC offset, else naive local
    lon: Decimal | None
    lat: Decimal | None
    orientation: int  # EXIF orientation 1–8 (1: upright)

    @property
    def has_position(self) -> bool:
        """Whether the photo carries a GPS position."""
        return self.lon is not None and self.lat is not None


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """The image, opened lazily, after its header's size was checked against the budget."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _unreadable() from None
    except (OSError, ValueError, SyntaxError):
        raise _unreadable() from None
    if image.format not in _PIL_FORMATS:
        raise _unreadable()
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidInput(
            "image_too_many_pixels",
            "An image has at most %(max)s pixels; this one is %(width)s × %(height)s",
            max=max_pixels,
            width=width,
            height=height,
        )
    return image


def _unreadable() -> InvalidInput:
    return InvalidInput("image_unreadable", "The image cannot be read (damaged or not an image)")


def _decoded(data: bytes, max_pixels: int) -> Image.Image:
    image = _open(data, max_pixels)
    try:
        image.load()
    except (OSError, ValueError, SyntaxError):
        raise _unreadable() from None
    return image


def _rational(value: Any) -> Fraction:
    """An EXIF rational (IFDRational, a (num, den) pair or a number) as an exact fraction."""
    if isinstance(value, tuple) and len(value) == 2:
        return Fraction(int(value[0]), int(value[1]))
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if numerator is not None and denominator is not None:
        return Fraction(int(numerator), int(denominator))
    return Fraction(str(value))


def _degrees(parts: Any, ref: Any, negative: str) -> Decimal | None:
    """Degrees, minutes, seconds and the hemisphere as signed decimal degrees (7 places)."""
    try:
        d, m, s = (_rational(p) for p in parts)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if str(ref).strip().upper() == negative:
        value = -value
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.0000001"))


def _position(exif: Image.Exif) -> tuple[Decimal | None, Decimal | None]:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if not gps:
        return None, None
    lat = gps.get(ExifTags.GPS.GPSLatitude)
    lon = gps.get(ExifTags.GPS.GPSLongitude)
    if lat is None or lon is None:
        return None, None
    lat_value = _degrees(lat, gps.get(ExifTags.GPS.GPSLatitudeRef, "N"), "S")
    lon_value = _degrees(lon, gps.get(ExifTags.GPS.GPSLongitudeRef, "E"), "W")
    if lat_value is None or lon_value is None or abs(lat_value) > 90 or abs(lon_value) > 180:
        return None, None
    return lon_value, lat_value


def _offset(text: Any) -> timezone | None:
    """An EXIF OffsetTime* value such as ``+08:00``."""
    if not isinstance(text, str) or len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _taken_at(exif: Image.Exif) -> datetime | None:
    details = exif.get_ifd(ExifTags.IFD.Exif)
    text = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not isinstance(text, str):
        return None
    try:
        taken = datetime.strptime(text.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _offset(details.get(ExifTags.Base.OffsetTimeOriginal))
    return taken.replace(tzinfo=zone) if zone else taken


def inspect_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Decode the image (refusing a damaged file or one over the pixel budget) and read its
    size, when it was taken and where."""
    image = _decoded(data, max_pixels)
    exif = image.getexif()
    lon, lat = _position(exif)
    orientation = exif.get(ExifTags.Base.Orientation, 1)
    return ImageInfo(
        media=_PIL_FORMATS[str(image.format)],
        width=image.width,
        height=image.height,
        taken_at=_taken_at(exif),
        lon=lon,
        lat=lat,
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1,
    )


def _upright(data: bytes, max_pixels: int) -> tuple[Image.Image, MediaType]:
    image = _decoded(data, max_pixels)
    media = _PIL_FORMATS[str(image.format)]
    turned = ImageOps.exif_transpose(image)
    return (turned if turned is not None else image), media


def _flat(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over white, palettes and greys expanded."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        back = Image.new("RGB", rgba.size, (255, 255, 255))
        back.paste(rgba, mask=rgba.getchannel("A"))
        return back
    return image.convert("RGB")


def thumbnail(data: bytes, *, size: int = THUMBNAIL_PX, max_pixels: int = MAX_PIXELS) -> bytes:
    """A JPEG at most ``size`` pixels on its longer side, upright, without metadata."""
    image, _media = _upright(data, max_pixels)
    small = _flat(image)
    small.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def public_copy(data: bytes, *, max_pixels: int = MAX_PIXELS) -> tuple[bytes, MediaType]:
    """The image upright and re-encoded in its own format without EXIF or XMP (no position,
    camera or time); the colour profile is kept so colours stay true."""
    image, media = _upright(data, max_pixels)
    icc = image.info.get("icc_profile")
    out = io.BytesIO()
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if media is JPEG:
        _flat(image).save(out, "JPEG", quality=90, optimize=True, **options)
    elif media is WEBP:
        image.save(out, "WEBP", quality=90, **options)
    else:
        image.save(out, "PNG", optimize=True, **options)
    return out.getvalue(), media
