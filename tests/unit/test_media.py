"""Attachments: types from the content, what a photo says, thumbnails, public copies."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from PIL import ExifTags, Image, TiffImagePlugin

from gridcity.adapters import media
from gridcity.domain.errors import InvalidInput

TIANANMEN = (Decimal("116.3974"), Decimal("39.9087"))


def _dms(value: Decimal) -> tuple[TiffImagePlugin.IFDRational, ...]:
    """Decimal degrees as EXIF degrees, minutes, seconds (seconds to 1/10000)."""
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    seconds = Fraction(str((minutes_f - minutes) * 60)).limit_denominator(10000)
    return (
        TiffImagePlugin.IFDRational(degrees, 1),
        TiffImagePlugin.IFDRational(minutes, 1),
        TiffImagePlugin.IFDRational(seconds.numerator, seconds.denominator),
    )


def photo(
    fmt: str = "JPEG",
    *,
    size: tuple[int, int] = (400, 300),
    mode: str = "RGB",
    position: tuple[Decimal, Decimal] | None = None,
    taken: str | None = None,
    offset: str | None = None,
    orientation: int | None = None,
    south_west: bool = False,
) -> bytes:
    """A real image in ``fmt`` with the EXIF a phone camera writes."""
    image = Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if taken:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = taken
        if offset:
            details[ExifTags.Base.OffsetTimeOriginal] = offset
    if position:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lon, lat = position
        gps[ExifTags.GPS.GPSLatitudeRef] = "S" if south_west else "N"
        gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "W" if south_west else "E"
        gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", media.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", media.PNG),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", media.WEBP),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", media.WAV),
        (b"#!AMR\n\x3c", media.AMR),
        (b"#!AMR-WB\n", media.AMR),
        (b"OggS\x00\x02\x00\x00", media.OGG),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm", media.WEBM),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", media.M4A),
        (b"\x00\x00\x00\x1cftypmp42\x00\x00\x00\x00", media.M4A),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", media.MP3),
        (b"\xff\xfb\x90\x64\x00", media.MP3),
    ],
)
def test_types_come_from_the_content(head: bytes, expected: media.MediaType) -> None:
    assert media.sniff(head) is expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"GIF89a\x01\x00",
        b"%PDF-1.7\n",
        b"PK\x03\x04\x14\x00",
        b"<svg xmlns='http://www.w3.org/2000/svg'>",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
        b"MZ\x90\x00",
    ],
)
def test_other_content_is_not_an_attachment(head: bytes) -> None:
    assert media.sniff(head) is None


def test_a_real_photo_sniffs_as_what_it_is() -> None:
    assert media.sniff(photo("JPEG")[: media.HEAD_BYTES]) is media.JPEG
    assert media.sniff(photo("PNG")[: media.HEAD_BYTES]) is media.PNG
    assert media.sniff(photo("WEBP")[: media.HEAD_BYTES]) is media.WEBP


def test_the_position_and_time_of_a_phone_photo_are_read() -> None:
    info = media.inspect_image(
        photo(position=TIANANMEN, taken="2026:02:13 16:05:09", offset="+08:00")
    )
    assert (info.width, info.height, info.media) == (400, 300, media.JPEG)
    assert info.has_position
    assert info.lon is not None and info.lat is not None
    assert abs(info.lon - TIANANMEN[0]) < Decimal("0.000001")
    assert abs(info.lat - TIANANMEN[1]) < Decimal("0.000001")
    assert info.taken_at == datetime(2026, 2, 13, 16, 5, 9, tzinfo=timezone(timedelta(hours=8)))


def test_southern_and_western_positions_are_negative() -> None:
    info = media.inspect_image(photo(position=(Decimal("70.5"), Decimal("33.25")), south_west=True))
    assert (info.lon, info.lat) == (Decimal("-70.5000000"), Decimal("-33.2500000"))


def test_a_time_without_offset_stays_naive_local() -> None:
    info = media.inspect_image(photo("WEBP", taken="2026:10:01 09:00:00"))
    assert info.taken_at == datetime(2026, 10, 1, 9, 0, 0)
    assert not info.has_position


def test_a_photo_without_exif_has_no_time_or_position() -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "PNG")
    info = media.inspect_image(out.getvalue())
    assert (info.taken_at, info.lon, info.lat, info.orientation) == (None, None, None, 1)


@pytest.mark.parametrize("bad", [b"\xff\xd8\xff\xe0garbage", b"not an image at all", b""])
def test_a_damaged_file_is_refused(bad: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        media.inspect_image(bad)
    assert caught.value.code == "image_unreadable"


def test_a_truncated_jpeg_is_refused() -> None:
    whole = photo(size=(800, 600))
    with pytest.raises(InvalidInput) as caught:
        media.inspect_image(whole[: len(whole) // 2])
    assert caught.value.code == "image_unreadable"


def test_too_many_pixels_are_refused_before_decoding() -> None:
    with pytest.raises(InvalidInput) as caught:
        media.inspect_image(photo(size=(200, 100)), max_pixels=19_999)
    assert caught.value.code == "image_too_many_pixels"
    assert caught.value.params["width"] == 200


def test_a_gif_is_not_taken_even_when_pillow_reads_it() -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(InvalidInput):
        media.inspect_image(out.getvalue())


def test_the_thumbnail_is_small_upright_and_bare() -> None:
    # orientation 6: the camera was turned; the picture is shown rotated 90° clockwise
    data = photo(size=(800, 400), position=TIANANMEN, taken="2026:02:13 16:05:09", orientation=6)
    thumb = media.thumbnail(data)
    image = Image.open(io.BytesIO(thumb))
    assert image.format == "JPEG"
    assert image.size == (160, 320)
    assert not image.getexif()


def test_a_transparent_png_gets_a_white_background_in_its_thumbnail() -> None:
    thumb = Image.open(io.BytesIO(media.thumbnail(photo("PNG", mode="RGBA", size=(64, 64)))))
    assert thumb.mode == "RGB"
    r, g, b = thumb.getpixel((32, 32))  # type: ignore[misc]
    assert r > 200 and g > 100 and b > 100  # half-transparent red over white


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_the_public_copy_has_no_position_time_or_camera(fmt: str) -> None:
    data = photo(
        fmt, position=TIANANMEN, taken="2026:02:13 16:05:09", offset="+08:00", orientation=6
    )
    assert media.inspect_image(data).has_position
    assert b"TestPhone" in data
    copy, kind = media.public_copy(data)
    assert kind.ext == {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[fmt]
    info = media.inspect_image(copy)
    assert (info.lon, info.lat, info.taken_at) == (None, None, None)
    assert info.orientation == 1
    assert (info.width, info.height) == (300, 400)  # turned upright
    assert b"TestPhone" not in copy
    assert not Image.open(io.BytesIO(copy)).getexif()
