#!/usr/bin/python3
"""Build the golden image fixtures for io.clipguard.image.

Writes, under --out (default src/test/resources/golden):
  images/<name>       test images covering every format/mode the decoder supports (real photos + generated content)
  crops/<name>.png    the reference preprocessing output: torchvision Compose([Resize(224, BICUBIC), CenterCrop(224)])
                      applied to PIL's Image.open(p).convert('RGB') -- uint8 RGB, lossless PNG
  full/<name>.png     PIL's full-size Image.open(p).convert('RGB') for the lossless formats (decoder parity)
  tensors/<name>.f32  ToTensor()+Normalize(CLIP mean/std) of one crop, raw little-endian float32, CHW
  bad/<name>          malformed inputs (truncated, text, random bytes, decompression bomb header, broken CRC)
  manifest.csv        name,format,mode,width,height,note (mode = PIL's mode right after open)

Run with the Debian interpreter that has PIL 9.4 + torchvision 0.14:  /usr/bin/python3 tools/make_golden_fixtures.py
Output is deterministic (fixed seeds), so re-running it reproduces the committed files.
"""
import argparse
import csv
import io
import os
import shutil
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageCms, ImageFilter

PHOTOS = {
    "grace_hopper": "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
    "china": "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg",
    "flower": "/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg",
}
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# Formats whose full-size decode must equal PIL's bit for bit (JPEG and lossy WebP are decoder-dependent).
LOSSLESS_FORMATS = {"PNG", "GIF", "BMP", "WEBP-LOSSLESS"}


def png_bytes(width, height, bit_depth, color_type, raw_rows, extra_chunks=b"", crc_ok=True):
    """A PNG written chunk by chunk, for layouts PIL cannot save (16-bit RGB, 2/4-bit gray) and for broken files."""

    def chunk(tag, data, good=True):
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        if not good:
            crc ^= 0xDEADBEEF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in raw_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra_chunks
            + chunk(b"IDAT", zlib.compress(raw, 9), crc_ok) + chunk(b"IEND", b""))


def wide_gamut_icc():
    """An RGB ICC profile with primaries far from sRGB: if a decoder colour-managed it, pixels would change visibly.
    PIL ignores embedded profiles, so our decoder must too."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = bytearray(profile)
    tag_count = struct.unpack(">I", data[128:132])[0]
    for i in range(tag_count):
        sig, offset, size = struct.unpack(">4sII", data[132 + 12 * i:144 + 12 * i])
        if sig in (b"rXYZ", b"gXYZ", b"bXYZ"):
            # XYZType: 'XYZ ' + 4 reserved + three s15Fixed16 numbers; swap X and Z to scramble the primaries.
            x, y, z = struct.unpack(">iii", data[offset + 8:offset + 20])
            data[offset + 8:offset + 20] = struct.pack(">iii", z, y, x)
    data[84:100] = bytes(16)  # profile ID (MD5) no longer valid: zero means "not computed"
    data[24:36] = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)  # fixed creation date, so re-runs reproduce the files
    return bytes(data)


def photo(key):
    return Image.open(PHOTOS[key]).convert("RGB")


def noise_texture(width, height, seed):
    """Smooth gradients plus fine noise and hard edges: exercises both the filter's tails and its clipping."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 127 + 120 * np.sin(xx / max(3.0, width / 17.0)) * np.cos(yy / max(3.0, height / 11.0))
    g = 255 * (xx + yy) / float(width + height)
    b = np.where(((xx // 8 + yy // 8) % 2) == 0, 240, 15).astype(np.float32)
    arr = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (height, width, 3))
    return np.clip(arr, 0, 255).astype(np.uint8)


def build_images(images_dir):
    """Write every fixture image; return manifest rows (name, format, note)."""
    rows = []

    def save(name, fmt, note, image=None, raw=None, **params):
        path = os.path.join(images_dir, name)
        if raw is not None:
            with open(path, "wb") as f:
                f.write(raw)
        else:
            image.save(path, **params)
        rows.append((name, fmt, note))

    # --- real photographs, byte for byte ---
    for key, src in PHOTOS.items():
        shutil.copyfile(src, os.path.join(images_dir, key + ".jpg"))
        rows.append((key + ".jpg", "JPEG", "real photograph, copied unchanged"))

    china, flower, grace = photo("china"), photo("flower"), photo("grace_hopper")
    icc = wide_gamut_icc()

    # --- JPEG ---
    save("photo_4096x3072.jpg", "JPEG", "china upscaled bicubic to 4096x3072, q85 4:2:0 (large-image path)",
         china.resize((4096, 3072), Image.BICUBIC), quality=85)
    save("progressive_640x427.jpg", "JPEG", "progressive, q90 4:2:0", flower, quality=90, progressive=True)
    save("jpeg444_97x61.jpg", "JPEG", "tiny, 4:4:4, upscaled by Resize",
         grace.resize((97, 61), Image.LANCZOS), quality=92, subsampling=0)
    save("jpeg422_225x301.jpg", "JPEG", "odd size, 4:2:2", flower.resize((225, 301), Image.LANCZOS),
         quality=90, subsampling=1)
    save("jpeg_224x224.jpg", "JPEG", "exactly 224x224: no resampling", china.resize((224, 224), Image.LANCZOS), quality=90)
    save("jpeg_224x500.jpg", "JPEG", "shorter side already 224", grace.resize((224, 500), Image.LANCZOS), quality=90)
    save("pano_3000x400.jpg", "JPEG", "wide panorama", china.resize((3000, 400), Image.BICUBIC), quality=88)
    save("gray_301x225.jpg", "JPEG", "grayscale JPEG (mode L)", grace.convert("L").resize((301, 225), Image.LANCZOS),
         quality=90)
    cmyk = flower.resize((300, 200), Image.LANCZOS).convert("CMYK")
    save("cmyk_300x200.jpg", "JPEG", "Adobe CMYK (stored inverted), PIL reads CMYK;I", cmyk, quality=92)
    save("ycck_200x150.jpg", "JPEG", "Adobe YCCK (APP14 transform=2)", raw=ycck_jpeg(china.resize((200, 150),
                                                                                                Image.LANCZOS)))
    save("icc_wide_gamut_320x240.jpg", "JPEG", "embedded non-sRGB ICC profile that PIL ignores",
         china.resize((320, 240), Image.LANCZOS), quality=90, icc_profile=icc)
    save("exif_rotate90_240x160.jpg", "JPEG", "EXIF Orientation=6 (ignored by PIL without exif_transpose)",
         flower.resize((240, 160), Image.LANCZOS), quality=90, exif=exif_orientation(6))

    # --- PNG ---
    tex = noise_texture(225, 301, seed=1)
    save("rgb_640x427.png", "PNG", "8-bit RGB", china)
    rgba = np.dstack([noise_texture(225, 301, seed=2), (np.arange(225 * 301) % 256).reshape(301, 225).astype(np.uint8)])
    save("rgba_225x301.png", "PNG", "8-bit RGBA, alpha dropped not composited", Image.fromarray(rgba, "RGBA"))
    save("gray_97x61.png", "PNG", "8-bit grayscale, upscaled", grace.convert("L").resize((97, 61), Image.LANCZOS))
    la = Image.merge("LA", [grace.convert("L").resize((150, 260), Image.LANCZOS),
                            Image.linear_gradient("L").resize((150, 260))])
    save("gray_alpha_150x260.png", "PNG", "8-bit gray+alpha", la)
    save("palette_300x2400.png", "PNG", "palette (adaptive 256 colours), tall panorama",
         flower.resize((300, 2400), Image.BICUBIC).quantize(256))
    pal_t = Image.fromarray(tex).quantize(64)
    pal_t.info["transparency"] = 3
    save("palette_trns_225x301.png", "PNG", "palette with tRNS transparent index", pal_t, transparency=3)
    save("bilevel_120x90.png", "PNG", "1-bit (mode 1)", grace.convert("L").resize((120, 90)).convert("1"))
    save("upscale_50x40.png", "PNG", "50x40, heavy upscaling", Image.fromarray(noise_texture(50, 40, seed=3)))
    save("rgb16_160x120.png", "PNG", "16-bit RGB (PIL keeps the high byte)", raw=png16_rgb(160, 120, seed=4))
    save("gray16_100x130.png", "PNG", "16-bit gray: PIL opens mode I, convert('RGB') clips at 255",
         raw=png16_gray(100, 130, seed=5))
    save("rgba16_130x100.png", "PNG", "16-bit RGBA", raw=png16_rgba(130, 100, seed=6))
    save("gray4bit_90x70.png", "PNG", "4-bit grayscale (scaled x17)", raw=png_gray_lowbit(90, 70, 4, seed=7))
    save("icc_wide_gamut_256x256.png", "PNG", "iCCP non-sRGB profile that PIL ignores",
         china.resize((256, 256), Image.LANCZOS), icc_profile=icc)

    # --- WebP ---
    save("webp_lossy_400x300.webp", "WEBP-LOSSY", "lossy VP8", flower.resize((400, 300), Image.LANCZOS), quality=85)
    save("webp_lossless_257x190.webp", "WEBP-LOSSLESS", "lossless VP8L",
         china.resize((257, 190), Image.LANCZOS), lossless=True)
    save("webp_lossless_alpha_225x301.webp", "WEBP-LOSSLESS", "lossless VP8L with alpha (dropped)",
         Image.fromarray(rgba, "RGBA"), lossless=True)

    # --- GIF ---
    save("gif_320x240.gif", "GIF", "static GIF, adaptive palette", china.resize((320, 240), Image.LANCZOS))
    frames = [flower.resize((180, 140), Image.LANCZOS), china.resize((180, 140), Image.LANCZOS)]
    save("gif_anim_180x140.gif", "GIF", "animated, 2 frames: first frame only", frames[0], save_all=True,
         append_images=frames[1:], duration=100, loop=0)

    # --- BMP ---
    save("bmp24_333x222.bmp", "BMP", "24-bit BMP (bottom-up)", Image.fromarray(noise_texture(333, 222, seed=8)))
    save("bmp8_palette_200x150.bmp", "BMP", "8-bit palette BMP", grace.resize((200, 150), Image.LANCZOS).quantize(256))
    save("bmp32_120x200.bmp", "BMP", "32-bit BGRA BMP (alpha ignored)", Image.fromarray(rgba, "RGBA").resize((120, 200)))
    return rows


def exif_orientation(value):
    """A minimal little-endian EXIF block holding only the Orientation tag."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, value, 0) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd


def ycck_jpeg(rgb_image):
    """An Adobe YCCK JPEG. PIL cannot write YCCK, but a YCCK file differs from Adobe CMYK only in the APP14 transform
    byte; so we store (Y, Cb, Cr, K) planes through PIL's CMYK writer (which inverts every sample) and flip the byte.
    libjpeg then converts YCC->RGB, inverts to CMYK; PIL inverts again (CMYK;I) and applies its CMYK->RGB formula."""
    ycbcr = np.asarray(rgb_image.convert("YCbCr"), dtype=np.uint8)
    k = np.full(ycbcr.shape[:2] + (1,), 40, dtype=np.uint8)  # constant black so K takes part in the conversion
    planes = np.dstack([ycbcr, k])
    # PIL's CMYK writer stores 255-v; libjpeg reads stored samples directly as Y, Cb, Cr and as (inverted) K.
    stored_as = Image.fromarray(255 - planes, "CMYK")
    buf = io.BytesIO()
    stored_as.save(buf, "JPEG", quality=95)
    data = bytearray(buf.getvalue())
    app14 = data.find(b"\xff\xee\x00\x0eAdobe")
    if app14 < 0:
        raise SystemExit("PIL wrote no Adobe APP14 marker for CMYK; cannot build the YCCK fixture")
    transform_at = app14 + 4 + 11  # marker(2) + length(2) + 'Adobe'(5) + version(2) + flags0(2) + flags1(2)
    data[transform_at] = 2
    return bytes(data)


def png16_rgb(width, height, seed):
    arr = (noise_texture(width, height, seed).astype(np.uint16) * 257
           + np.random.default_rng(seed).integers(0, 257, (height, width, 3))).astype(">u2")
    return png_bytes(width, height, 16, 2, [arr[y].tobytes() for y in range(height)])


def png16_rgba(width, height, seed):
    rgb = noise_texture(width, height, seed).astype(np.uint16) * 257
    alpha = np.random.default_rng(seed).integers(0, 65536, (height, width, 1))
    arr = np.dstack([rgb, alpha]).astype(">u2")
    return png_bytes(width, height, 16, 6, [arr[y].tobytes() for y in range(height)])


def png16_gray(width, height, seed):
    # Mostly small values (0..400) so both the pass-through range and the clip at 255 are exercised.
    arr = np.random.default_rng(seed).integers(0, 400, (height, width)).astype(">u2")
    arr[:10] = 60000
    return png_bytes(width, height, 16, 0, [arr[y].tobytes() for y in range(height)])


def png_gray_lowbit(width, height, bits, seed):
    per_byte = 8 // bits
    vals = np.random.default_rng(seed).integers(0, 1 << bits, (height, width)).astype(np.uint8)
    rows = []
    for y in range(height):
        padded = np.concatenate([vals[y], np.zeros((-width) % per_byte, np.uint8)]).reshape(-1, per_byte)
        packed = np.zeros(padded.shape[0], np.uint8)
        for i in range(per_byte):
            packed |= padded[:, i] << (8 - bits * (i + 1))
        rows.append(packed.tobytes())
    return png_bytes(width, height, bits, 0, rows)


def build_bad(bad_dir, images_dir):
    with open(os.path.join(images_dir, "china.jpg"), "rb") as f:
        jpeg = f.read()
    rgb_png = os.path.join(images_dir, "rgb_640x427.png")
    with open(rgb_png, "rb") as f:
        png = f.read()
    bad = {
        "truncated_half.jpg": jpeg[: len(jpeg) // 2],
        "truncated_header.jpg": jpeg[:300],
        "text.jpg": b"This is not an image, just text saved with a .jpg name.\n" * 4,
        "random_4k.bin": np.random.default_rng(9).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        # 60000x60000 RGB claimed in IHDR, 1 row of data: a decompression bomb must be refused from the header.
        "bomb_60000x60000.png": png_bytes(60000, 60000, 8, 2, [bytes(60000 * 3)]),
        "bad_crc.png": png_bytes(64, 48, 8, 2, [bytes(range(192)) for _ in range(48)], crc_ok=False),
        "truncated_half.png": png[: len(png) // 2],
    }
    for name, data in bad.items():
        with open(os.path.join(bad_dir, name), "wb") as f:
            f.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                      "src", "test", "resources", "golden"),
                        help="golden folder to (re)build (default: %(default)s)")
    parser.add_argument("--tensor-for", default="china.jpg",
                        help="fixture whose normalised tensor is saved under tensors/ (default: %(default)s)")
    args = parser.parse_args()

    import torch
    import torchvision.transforms as T

    torch.set_num_threads(1)
    out = os.path.abspath(args.out)
    dirs = {d: os.path.join(out, d) for d in ("images", "crops", "full", "tensors", "bad")}
    for d in dirs.values():
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    rows = build_images(dirs["images"])
    build_bad(dirs["bad"], dirs["images"])

    resize_crop = T.Compose([T.Resize(224, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(224)])
    to_tensor = T.Compose([T.ToTensor(), T.Normalize(CLIP_MEAN, CLIP_STD)])
    manifest = []
    for i, (name, fmt, note) in enumerate(rows, 1):
        print(f"[{i:2d}/{len(rows)}] {name}", file=sys.stderr)
        opened = Image.open(os.path.join(dirs["images"], name))
        mode, (width, height) = opened.mode, opened.size
        rgb = opened.convert("RGB")
        crop = resize_crop(rgb)
        crop.save(os.path.join(dirs["crops"], name + ".png"))
        if fmt in LOSSLESS_FORMATS:
            rgb.save(os.path.join(dirs["full"], name + ".png"))
        if name == args.tensor_for:
            tensor = to_tensor(crop).numpy().astype("<f4")
            tensor.tofile(os.path.join(dirs["tensors"], name + ".f32"))
        manifest.append((name, fmt, mode, width, height, note))

    with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["name", "format", "mode", "width", "height", "note"])
        writer.writerows(manifest)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"wrote {len(manifest)} fixtures to {out} ({total / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
