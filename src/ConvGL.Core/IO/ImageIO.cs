using System.Buffers.Binary;
using SkiaSharp;
using StbImageSharp;
using StbImageWriteSharp;

namespace ConvGL.Core.IO;

/// <summary>Which channels an image is loaded as.</summary>
public enum ImageChannels
{
    /// <summary>Gray when the file stores gray (1 or 2 components), RGB when it stores colour (3 or 4).</summary>
    Auto,
    /// <summary>One channel: the file's gray, or 0.299 R + 0.587 G + 0.114 B of its colour (BT.601, as OpenCV's cvtColor).</summary>
    Gray,
    /// <summary>Three channels: the file's colour, or its gray repeated three times.</summary>
    Rgb,
}

/// <summary>How float values become the 8-bit samples of a PNG.</summary>
public enum PngScaling
{
    /// <summary>byte = round(255 * clamp(v, 0, 1)): a [0, 1] image comes back as it was loaded.</summary>
    Clamp,
    /// <summary>Min-max over the whole tensor (all channels together, so colour balance is kept) to [0, 1],
    /// then <see cref="Clamp"/>: for signed maps such as edge responses, where 0 lands mid-range.
    /// A constant tensor has no range and is written with <see cref="Clamp"/>.</summary>
    MinMax,
}

/// <summary>Image files to and from (C, H, W) float32 tensors with values in [0, 1] (byte / 255).
///
/// Decoding: PNG, JPEG, BMP, GIF (first frame) and WebP by SkiaSharp's codecs (libpng, libjpeg-turbo, Skia's own
/// BMP/GIF readers, libwebp: continuously fuzzed upstream); TGA, which Skia lacks, by StbImageSharp after its
/// 18-byte header is checked here. StbImageSharp is no longer trusted with the other formats: a JPEG cut inside its
/// JFIF header (8 to 19 bytes) made it loop forever, where Skia reports the truncation. Width and height come from
/// the file's header and are capped (<see cref="Limits.ImageSide"/>, <see cref="Limits.ImagePixels"/>, and the memory
/// the decode takes, <see cref="Limits.ImageDecodeBytes"/>) before any pixel buffer is allocated; an uncompressed BMP or TGA must also hold the bytes its header promises, so a tiny
/// file cannot make the decoder fill a gigabyte of zeros, and a sequential JPEG's scan data must cover every block its
/// frame header promises (<see cref="JpegScan"/>). A truncated file is an error, never a partly black or grey image.
/// Samples are 8-bit (16-bit PNGs are reduced by Skia), without colour management; alpha is dropped (not composited).
/// Encoding by StbImageWriteSharp: PNG, 1 or 3 channels.</summary>
public static class ImageIO
{
    /// <summary>The formats <see cref="Decode"/> reads, for messages.</summary>
    public const string Formats = "PNG, JPEG, BMP, GIF, WebP, TGA";

    public static Tensor Load(string path, ImageChannels channels = ImageChannels.Auto) =>
        Decode(BoundedFile.ReadAllBytes(path, Limits.ImageFileBytes, "image"), channels, path);

    /// <summary>Decodes image bytes; <paramref name="name"/> is only used in error messages.</summary>
    public static Tensor Decode(byte[] bytes, ImageChannels channels = ImageChannels.Auto, string name = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        (byte[] px, int comp, bool colour, int h, int w) = IsTga(bytes) ? DecodeTga(bytes, name, channels) : DecodeSkia(bytes, name, channels);
        bool gray = IsGray(channels, colour);
        CheckSize(name, gray ? 1 : 3, h, w);
        var t = Tensor.Chw(gray ? 1 : 3, h, w);
        int plane = h * w;
        for (int p = 0; p < plane; p++)
        {
            int s = p * comp;
            if (!colour)
            {
                float v = px[s] / 255f;
                t.Data[p] = v;
                if (!gray)
                {
                    t.Data[plane + p] = v;
                    t.Data[2 * plane + p] = v;
                }
            }
            else if (gray)
            {
                t.Data[p] = GrayOf(px[s] / 255f, px[s + 1] / 255f, px[s + 2] / 255f);
            }
            else
            {
                t.Data[p] = px[s] / 255f;
                t.Data[plane + p] = px[s + 1] / 255f;
                t.Data[2 * plane + p] = px[s + 2] / 255f;
            }
        }
        return t;
    }

    private static ConvGLException DecodeError(string name, string why) => new($"cannot decode '{name}' as an image ({Formats}): {why}");

    /// <summary>The header's size, refused before decoding when over the caps.</summary>
    internal static void CheckDimensions(string name, long w, long h)
    {
        if (w < 1 || h < 1) throw DecodeError(name, $"its header gives a size of {w}x{h}");
        if (w > Limits.ImageSide || h > Limits.ImageSide || w * h > Limits.ImagePixels)
            throw DecodeError(name, $"its header says {w}x{h} pixels, over the limit of {Limits.ImageSide} a side and {Limits.ImagePixels} " +
                                    "pixels (16384x16384) in all");
    }

    private static bool IsGray(ImageChannels channels, bool colour) => channels == ImageChannels.Gray || (channels == ImageChannels.Auto && !colour);

    /// <summary>The memory a decode of a w x h image would take (<see cref="Limits.ImageDecodeBytes"/>: 8-bit RGBA
    /// pixels plus the float32 image in the channels it is loaded as), refused from the header before decoding.</summary>
    internal static void CheckDecodeBytes(string name, long w, long h, ImageChannels channels, bool colour)
    {
        bool gray = IsGray(channels, colour);
        long need = w * h * (4 + 4 * (gray ? 1 : 3));
        if (need > Limits.ImageDecodeBytes)
            throw DecodeError(name, $"decoding its {w}x{h} pixels as {(gray ? "gray" : "RGB")} would take {Limits.Bytes(need)} (8-bit pixels and the float32 image), " +
                                    $"over the {Limits.Bytes(Limits.ImageDecodeBytes)} limit for a decoded image; use a smaller image" +
                                    // Gray only where a gray decode (8 bytes a pixel) would fit: a 16384x16384 claim is refused either way.
                                    (gray || w * h * 8 > Limits.ImageDecodeBytes ? "" : " or --channels gray"));
    }

    /// <summary>Skia formats, decoded to 8-bit RGBA, unpremultiplied, in the file's own colour space.</summary>
    private static (byte[] Px, int Comp, bool Colour, int H, int W) DecodeSkia(byte[] bytes, string name, ImageChannels channels)
    {
        if (bytes.AsSpan().StartsWith("BM"u8)) CheckBmpMasks(bytes, name);
        // Formats ConvGL does not read, by their signature: said so before the decoder calls them truncated.
        if (NotRead(bytes) is { } other) throw DecodeError(name, other);
        using var stream = new SKMemoryStream(bytes);
        using SKCodec? codec = SKCodec.Create(stream, out SKCodecResult result);
        if (codec is null || result != SKCodecResult.Success)
            throw DecodeError(name, PngHeaderProblem(bytes) ?? (result == SKCodecResult.IncompleteInput && StartsLikeAnImage(bytes) ? "the file is truncated" : Describe(bytes)));
        if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Bmp
            or SKEncodedImageFormat.Gif or SKEncodedImageFormat.Webp))
            throw DecodeError(name, $"{codec.EncodedFormat} files are not supported");
        int w = codec.Info.Width, h = codec.Info.Height;
        CheckDimensions(name, w, h);
        // A BMP too short for its rows is reported as truncated first: that says more than the memory it would take.
        if (codec.EncodedFormat == SKEncodedImageFormat.Bmp) CheckBmpLength(bytes, w, h, name);
        bool colour = !StoresGray(bytes, codec);
        CheckDecodeBytes(name, w, h, channels, colour);
        if (codec.EncodedFormat == SKEncodedImageFormat.Jpeg) CheckJpegData(bytes, name);
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var px = new byte[(long)w * h * 4];
        unsafe
        {
            fixed (byte* p = px)
            {
                result = codec.GetPixels(info, (IntPtr)p);
            }
        }
        // libjpeg-turbo decodes a progressive JPEG cut short into a blurry whole picture and reports success: a JPEG
        // whose scans never reach the end-of-image marker is truncated, whatever the decoder made of it.
        if (result == SKCodecResult.Success && codec.EncodedFormat == SKEncodedImageFormat.Jpeg && !JpegReachesEnd(bytes))
            result = SKCodecResult.IncompleteInput;
        // The decoders stop reading once the first picture is whole: a PNG cut inside its last chunk, a GIF without its
        // trailer or with a later frame cut, a WebP shorter than its RIFF header says decoded as if complete (and a
        // failed decode of a file cut short is said so, not as the decoder's code).
        if (ContainerCutShort(bytes, codec.EncodedFormat) is { } cut)
            throw DecodeError(name, $"the file is truncated ({cut})");
        if (result != SKCodecResult.Success)
            throw DecodeError(name, result switch
            {
                // libpng reports data it cannot inflate as incomplete too: a PNG that still ends in its IEND chunk was
                // not cut short, its pixel data is damaged.
                SKCodecResult.IncompleteInput when codec.EncodedFormat == SKEncodedImageFormat.Png && EndsWithIend(bytes) =>
                    "its pixel data is damaged (the PNG ends properly, but its image data does not decode)",
                SKCodecResult.IncompleteInput => "the file is truncated (its pixel data ends early)",
                SKCodecResult.ErrorInInput => "its pixel data is damaged",
                // (the hostile-input audit's palette PNG without a palette, and an RLE-compressed BMP: "the decoder says InvalidInput")
                SKCodecResult.InvalidInput => "its data does not decode: damaged, or a variant the decoder does not read (a palette image without " +
                                              "its palette, a compressed BMP); save it again as a plain PNG",
                _ => $"the decoder says {result}",
            });
        return (px, 4, colour, h, w);
    }

    /// <summary>Whether the file stores gray: Skia reports gray JPEGs and PNGs as Gray8, but decodes a gray+alpha PNG
    /// (colour type 4 in its IHDR) like colour, while it is gray with alpha as far as ConvGL is concerned.</summary>
    private static bool StoresGray(byte[] bytes, SKCodec codec) =>
        codec.Info.ColorType == SKColorType.Gray8
        || (codec.EncodedFormat == SKEncodedImageFormat.Png && bytes.Length > 25 && bytes[25] is 0 or 4);

    /// <summary>An uncompressed BMP (BI_RGB, BI_BITFIELDS) needs rows of ceil(bpp * w / 32) * 4 bytes for every row
    /// after its pixel-data offset; Skia would otherwise decode a 100-byte file claiming 16384x16384 into zeros.</summary>
    private static void CheckBmpLength(byte[] bytes, int w, int h, string name)
    {
        if (bytes.Length < 34) return; // Skia read the header: a core (OS/2) header, without a compression field
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(10));
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(14));
        if (headerSize < 40) return;
        int bpp = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(28));
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(30));
        if (compression is not (0 or 3)) return;
        long need = offset + ((long)bpp * w + 31) / 32 * 4 * h;
        if (bytes.Length < need)
            throw DecodeError(name, $"the BMP is truncated: {w}x{h} at {bpp} bits needs {need} bytes, the file has {bytes.Length}");
    }

    /// <summary>BMP colour masks (BI_BITFIELDS, or the masks of a V3+ info header, at file offset 54) must each be one
    /// run of bits: Skia prints "Warning: Bit mask is not continuous." to the terminal for any other, which would put
    /// a second line beside the error (or beside a successful run). Checked before Skia sees the file.</summary>
    private static void CheckBmpMasks(byte[] bytes, string name)
    {
        if (bytes.Length < 34) return;
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(14));
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(30));
        int masks = headerSize >= 56 || compression == 6 ? 4 : headerSize >= 52 || compression == 3 ? 3 : 0;
        if (headerSize < 40) masks = 0;
        for (int i = 0; i < masks && 54 + 4 * i + 4 <= bytes.Length; i++)
        {
            uint mask = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(54 + 4 * i));
            uint run = mask == 0 ? 0 : mask >> System.Numerics.BitOperations.TrailingZeroCount(mask);
            if ((run & (run + 1)) != 0)
                throw DecodeError(name, $"the BMP's {"RGBA"[i]} colour mask 0x{mask:X8} is not one run of bits");
        }
    }

    /// <summary>What a file in a format ConvGL does not read is, by its signature (PNM: P1..P7 and a space; TIFF: II*0 or
    /// MM0*), with the fix; null for anything else.</summary>
    internal static string? NotRead(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 3 && b[0] == (byte)'P' && b[1] is >= (byte)'1' and <= (byte)'7' && b[2] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
            return "PNM (PBM, PGM, PPM, PAM) files are not read; convert it to PNG";
        if (b.StartsWith("II*\0"u8) || b.StartsWith("MM\0*"u8)) return "TIFF files are not read; convert it to PNG";
        return null;
    }

    /// <summary>What the first bytes look like, for an error about a file no decoder recognised.</summary>
    private static string Describe(byte[] bytes)
    {
        ReadOnlySpan<byte> b = bytes;
        // A video with a picture's name (the helper audit: an .mp4 renamed .png said only "not recognised").
        if (VideoKind(b) is { } video)
            return $"it is {video} video, not a picture: the window plays it (`--source FILE` named .mp4, .avi, .mkv ...); apply and features read pictures";
        if (b.StartsWith("8BPS"u8)) return "Photoshop (PSD) files are not supported";
        if (b.StartsWith("#?RADIANCE"u8) || b.StartsWith("#?RGBE"u8)) return "Radiance HDR files are not supported";
        if (b.StartsWith(PngSignature)) return "the PNG is damaged (its signature or IHDR chunk is not valid)";
        if (b.StartsWith(JpegStart)) return "the JPEG is damaged (no valid frame header)";
        if (b.StartsWith("BM"u8)) return "the BMP header is not valid";
        if (b.StartsWith("GIF8"u8)) return "the GIF header is not valid";
        return bytes.Length == 0 ? "the file is empty" : "the format is not recognised";
    }

    /// <summary>What is wrong with a PNG's IHDR (a width or height of 0, a bit depth its colour type does not have), or
    /// null: the decoder called both "truncated" (the hostile-input audit). Pure: a unit test holds it.</summary>
    internal static string? PngHeaderProblem(ReadOnlySpan<byte> b)
    {
        if (b.Length < 29 || !b.StartsWith(PngSignature) || !b[12..16].SequenceEqual("IHDR"u8)) return null;
        uint w = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b[16..]), h = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(b[20..]);
        int depth = b[24], type = b[25];
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue) return $"its header is invalid (IHDR: {w}x{h} pixels)";
        int[]? depths = type switch { 0 => [1, 2, 4, 8, 16], 3 => [1, 2, 4, 8], 2 or 4 or 6 => [8, 16], _ => null };
        if (depths is null) return $"its header is invalid (IHDR: colour type {type}; PNG has 0, 2, 3, 4 and 6)";
        return depths.Contains(depth) ? null : $"its header is invalid (IHDR: bit depth {depth} with colour type {type}, which takes {string.Join(", ", depths)})";
    }

    /// <summary>Whether the bytes begin as a PNG, JPEG, BMP, GIF or WebP does (or are a beginning of one's signature): only
    /// then is a file too short for the decoder's first look a picture cut short; any other short file (a text file named
    /// .png, one byte) is not recognised, not truncated.</summary>
    private static bool StartsLikeAnImage(ReadOnlySpan<byte> b)
    {
        if (b.Length == 0) return false;
        static bool Begins(ReadOnlySpan<byte> b, ReadOnlySpan<byte> sig) => b.Length >= sig.Length ? b.StartsWith(sig) : sig.StartsWith(b);
        return Begins(b, PngSignature) || Begins(b, JpegStart) || Begins(b, "BM"u8) || Begins(b, "GIF8"u8) || Begins(b, "RIFF"u8);
    }

    /// <summary>"an MP4 / QuickTime", "an AVI" or "a Matroska / WebM" by the container's signature; null otherwise.</summary>
    internal static string? VideoKind(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 12 && b[4..8].SequenceEqual("ftyp"u8)) return "an MP4 / QuickTime";
        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("AVI "u8)) return "an AVI";
        if (b.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3])) return "a Matroska / WebM";
        return null;
    }

    /// <summary>Where a PNG, GIF or WebP file ends before its own structure does, in words; null where it is whole (or
    /// holds a block this walk does not know, which the decoder accepted). PNG: every chunk's length fits the file, up
    /// to the IEND chunk; GIF: every block and sub-block, up to the trailer byte; WebP: the length its RIFF header gives.
    /// Bytes after the end (some writers append them) are allowed. Pure: a unit test holds it.</summary>
    internal static string? ContainerCutShort(ReadOnlySpan<byte> b, SKEncodedImageFormat format)
    {
        switch (format)
        {
            case SKEncodedImageFormat.Png:
            {
                for (long pos = 8; ;)
                {
                    if (pos + 8 > b.Length) return $"it ends at byte {b.Length} before its IEND chunk";
                    long length = BinaryPrimitives.ReadUInt32BigEndian(b[(int)pos..]);
                    ReadOnlySpan<byte> type = b.Slice((int)pos + 4, 4);
                    if (pos + 12 + length > b.Length)
                        return $"its {ErrorText.OneLine(System.Text.Encoding.ASCII.GetString(type))} chunk at byte {pos} needs {12 + length} bytes, the file ends {b.Length - pos} bytes after its start";
                    if (type.SequenceEqual("IEND"u8)) return null;
                    pos += 12 + length;
                }
            }
            case SKEncodedImageFormat.Gif:
            {
                int pos = 13;
                if (b.Length < pos) return "it ends inside its header";
                if ((b[10] & 0x80) != 0) pos += 3 << ((b[10] & 7) + 1);
                while (true)
                {
                    if (pos >= b.Length) return $"it ends at byte {b.Length} before the GIF trailer";
                    byte block = b[pos];
                    if (block == 0x3B) return null;
                    if (block == 0x21) pos += 2; // extension introducer and label, then its sub-blocks
                    else if (block == 0x2C)
                    {
                        if (pos + 10 > b.Length) return $"its image descriptor at byte {pos} is cut";
                        byte packed = b[pos + 9];
                        pos += 10 + ((packed & 0x80) != 0 ? 3 << ((packed & 7) + 1) : 0) + 1; // descriptor, colour table, LZW code size
                    }
                    else return null;
                    while (true)
                    {
                        if (pos >= b.Length) return $"it ends at byte {b.Length} inside a data block";
                        int size = b[pos];
                        pos += 1 + size;
                        if (size == 0) break;
                    }
                }
            }
            case SKEncodedImageFormat.Webp:
            {
                if (b.Length < 12 || !b.StartsWith("RIFF"u8)) return null;
                long size = 8 + (long)BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
                return b.Length < size ? $"its RIFF header gives {size} bytes, the file has {b.Length}" : null;
            }
            default:
                return null;
        }
    }

    /// <summary>Whether a PNG's last 12 bytes are its IEND chunk (length 0, "IEND", its CRC AE 42 60 82).</summary>
    internal static bool EndsWithIend(ReadOnlySpan<byte> b) =>
        b.Length >= 12 && b[^12..].SequenceEqual((ReadOnlySpan<byte>)[0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82]);

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G'];
    private static ReadOnlySpan<byte> JpegStart => [0xFF, 0xD8];

    /// <summary>A sequential Huffman JPEG whose scan data ends before the last block its frame header promises is refused
    /// before the pixel buffer exists: libjpeg-turbo only warns, fills the rest with grey and reports success (a 640x400
    /// photo patched to claim 4000x8000 took 12 s and 1.9 GB to become 98.7% grey). Progressive and other JPEGs are
    /// left to the decoder and <see cref="JpegReachesEnd"/>.</summary>
    private static void CheckJpegData(byte[] bytes, string name)
    {
        JpegScanResult scan = JpegScan.Walk(bytes);
        if (scan.Coverage == JpegCoverage.TooSmall)
            throw DecodeError(name, $"the file's {Limits.Bytes(bytes.Length)} cannot hold the {scan.Width}x{scan.Height} progressive JPEG its header " +
                                    $"claims (its first scan takes a bit for each of its {scan.Reason} at least): damaged, truncated, or a header claiming too large a size");
        if (scan.Coverage != JpegCoverage.Short) return;
        // Rounded down, so that a file missing its last block never reads as 100%.
        double percent = Math.Floor(scan.Fraction * 1000) / 10;
        throw DecodeError(name, $"the JPEG's image data covers only {percent.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)}% " +
                                $"of its {scan.Width}x{scan.Height} header (damaged or truncated file)");
    }

    /// <summary>Whether the JPEG's end-of-image marker (FF D9) follows its first scan (FF DA). Inside entropy-coded data
    /// every FF byte is stuffed (FF 00) or a restart marker (FF D0..D7), so FF D9 there is the real end; a thumbnail's
    /// own end marker lies in a header segment before the first scan.</summary>
    internal static bool JpegReachesEnd(ReadOnlySpan<byte> b)
    {
        ReadOnlySpan<byte> startOfScan = [0xFF, 0xDA], endOfImage = [0xFF, 0xD9];
        int scan = b.IndexOf(startOfScan);
        return scan >= 0 && b[(scan + 2)..].IndexOf(endOfImage) >= 0;
    }

    // ---- TGA ------------------------------------------------------------------------------------------------

    /// <summary>TGA has no signature: a file is taken as TGA when its 18-byte header is consistent (colour-map type
    /// 0 or 1; image type 1, 2, 3 uncompressed or 9, 10, 11 RLE; 8, 15, 16, 24 or 32 bits a pixel) and it is not one of
    /// the signed formats (which Skia reads).</summary>
    private static bool IsTga(byte[] b)
    {
        if (b.Length < 18 || b.AsSpan().StartsWith(PngSignature) || b.AsSpan().StartsWith(JpegStart) || b.AsSpan().StartsWith("BM"u8)
            || b.AsSpan().StartsWith("GIF8"u8) || b.AsSpan().StartsWith("RIFF"u8))
            return false;
        return b[1] is 0 or 1 && b[2] is 1 or 2 or 3 or 9 or 10 or 11 && b[16] is 8 or 15 or 16 or 24 or 32;
    }

    private static (byte[] Px, int Comp, bool Colour, int H, int W) DecodeTga(byte[] bytes, string name, ImageChannels channels)
    {
        int w = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(12)), h = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(14));
        CheckDimensions(name, w, h);
        int type = bytes[2], bpp = bytes[16];
        int colourMapType = bytes[1], mapLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(5)), mapBits = bytes[7];
        // Each colour-map entry takes whole bytes (a 15-bit entry two, as stb reads it; the review: counted as 15 bits,
        // the RLE walk started inside the map and refused valid files).
        long header = 18L + bytes[0] + (colourMapType == 1 ? (long)mapLength * ((mapBits + 7) / 8) : 0);
        long pixelBytes = (long)w * h * ((bpp + 7) / 8);
        // Uncompressed data is exactly w * h pixels; RLE packs at most 128 pixels into one packet of 1 + pixel bytes.
        long need = header + (type < 8 ? pixelBytes : (long)w * h / 128 * (1 + (bpp + 7) / 8));
        if (bytes.Length < need)
            throw DecodeError(name, $"the TGA is truncated: its header promises {w}x{h} at {bpp} bits, at least {need} bytes, the file has {bytes.Length}");
        // RLE: the packets must cover every pixel (stb fills the rest with black and reports success: the fuzz audit's
        // file cut at half came out with its lower 12 rows black).
        if (type >= 8 && RlePixels(bytes, header, (long)w * h, (bpp + 7) / 8) is var (covered, total) && covered < total)
            throw DecodeError(name, $"the TGA is truncated: its run-length packets end after {covered} of the {w}x{h} = {total} pixels its header promises");
        // Image types 3 and 11 are gray; stb decodes to at most 4 bytes a pixel, which the check counts.
        CheckDecodeBytes(name, w, h, channels, colour: type is not (3 or 11));
        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(bytes, StbImageSharp.ColorComponents.Default);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw DecodeError(name, e.Message);
        }
        if (image?.Data is null || image.Width != w || image.Height != h) throw DecodeError(name, "the TGA decoder returned no image");
        int comp = image.Comp switch
        {
            StbImageSharp.ColorComponents.Grey => 1,
            StbImageSharp.ColorComponents.GreyAlpha => 2,
            StbImageSharp.ColorComponents.RedGreenBlue => 3,
            StbImageSharp.ColorComponents.RedGreenBlueAlpha => 4,
            _ => throw DecodeError(name, $"unexpected component layout {image.Comp}"),
        };
        if (image.Data.Length < (long)w * h * comp) throw DecodeError(name, "the TGA decoder returned too few pixels");
        return (image.Data, comp, comp >= 3, h, w);
    }

    /// <summary>How many of <paramref name="pixels"/> pixels the RLE packets from <paramref name="start"/> cover before the
    /// file ends (a packet: a count byte, then one pixel repeated, bit 7 set, or that many raw pixels of
    /// <paramref name="pixelBytes"/> bytes); a packet cut short covers none. Reads only packet headers.</summary>
    internal static (long Covered, long Total) RlePixels(ReadOnlySpan<byte> b, long start, long pixels, int pixelBytes)
    {
        long pos = start, covered = 0;
        while (covered < pixels && pos < b.Length)
        {
            int c = b[(int)pos];
            long count = (c & 0x7F) + 1, size = 1 + ((c & 0x80) != 0 ? pixelBytes : count * pixelBytes);
            if (pos + size > b.Length) break;
            pos += size;
            covered += count;
        }
        return (Math.Min(covered, pixels), pixels);
    }

    /// <summary>stb decodes up to 2^31 bytes, but a (C, H, W) float tensor holds at most int.MaxValue values: a gray
    /// 30000 x 30000 image read as RGB (2.7e9 values) must be a clear error naming the file, not an ArgumentException
    /// from the tensor constructor.</summary>
    internal static void CheckSize(string name, int channels, int h, int w)
    {
        long n = (long)channels * h * w;
        if (n > int.MaxValue)
            throw new ConvGLException($"'{name}' is {w}x{h}: as {channels} channel(s) that is {n} values, more than a tensor holds ({int.MaxValue}); use a smaller image{(channels > 1 && (long)h * w <= int.MaxValue ? " or --channels gray" : "")}");
    }

    /// <summary>BT.601 luma on [0, 1] values, in double then rounded once to float32. (OpenCV's cvtColor on
    /// 8-bit input would also round to a byte; ConvGL keeps the fraction.)</summary>
    public static float GrayOf(float r, float g, float b) => (float)(0.299 * r + 0.587 * g + 0.114 * b);

    /// <summary>A (3, H, W) image to (1, H, W) gray with <see cref="GrayOf"/>; a (1, H, W) tensor is returned as a copy.</summary>
    public static Tensor ToGray(Tensor image)
    {
        if (image.Rank != 3 || (image.C != 1 && image.C != 3))
            throw new ConvGLException($"gray conversion needs a (1, H, W) or (3, H, W) tensor, got {image.ShapeString}");
        if (image.C == 1) return image.Clone();
        int plane = image.H * image.W;
        var t = Tensor.Chw(1, image.H, image.W);
        for (int p = 0; p < plane; p++)
            t.Data[p] = GrayOf(image.Data[p], image.Data[plane + p], image.Data[2 * plane + p]);
        return t;
    }

    /// <summary>The scaling `convgl apply` uses for a .png when it has no better knowledge: <see cref="PngScaling.Clamp"/>
    /// when every value already lies in [0, 1] (the output is an image), else <see cref="PngScaling.MinMax"/>
    /// (a signed or unbounded response).</summary>
    public static PngScaling AutoScaling(Tensor t)
    {
        (float min, float max) = t.Range();
        return min >= 0f && max <= 1f ? PngScaling.Clamp : PngScaling.MinMax;
    }

    /// <summary>The 8-bit samples, interleaved (H, W, C), of a (1, H, W), (3, H, W) or (H, W) tensor.
    /// Rounding is half-to-even (as OpenCV's saturate_cast); NaN becomes 0. MinMax stretches the finite values' range
    /// (<see cref="Tensor.Range"/>) to 0..255, an infinity at its end (as the window draws a map); with no spread (a
    /// constant map, or no finite value) the values are clamped to [0, 1] instead.</summary>
    public static byte[] ToBytes(Tensor t, PngScaling scaling)
    {
        (int c, int h, int w) = PngShape(t);
        double offset = 0, scale = 1;
        if (scaling == PngScaling.MinMax)
        {
            (float min, float max) = t.Range();
            if (float.IsFinite(min) && float.IsFinite(max) && max > min)
            {
                offset = min;
                scale = 1.0 / ((double)max - min);
            }
        }
        int plane = h * w;
        var bytes = new byte[plane * c];
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < plane; p++)
            {
                double v = (t.Data[ch * plane + p] - offset) * scale;
                bytes[p * c + ch] = double.IsNaN(v) ? (byte)0 : (byte)Math.Round(Math.Clamp(v, 0.0, 1.0) * 255.0, MidpointRounding.ToEven);
            }
        return bytes;
    }

    /// <summary>Writes a PNG (8-bit gray or RGB) atomically.</summary>
    public static void SavePng(string path, Tensor t, PngScaling scaling = PngScaling.Clamp)
    {
        byte[] png = EncodePng(t, scaling);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>The bytes of a PNG file (8-bit gray or RGB) of <paramref name="t"/>, for writers that put several
    /// files down together (<see cref="AtomicFile.WriteAll"/>).</summary>
    public static byte[] EncodePng(Tensor t, PngScaling scaling = PngScaling.Clamp)
    {
        (int c, int h, int w) = PngShape(t);
        byte[] bytes = ToBytes(t, scaling);
        var comps = c == 1 ? StbImageWriteSharp.ColorComponents.Grey : StbImageWriteSharp.ColorComponents.RedGreenBlue;
        using var png = new MemoryStream();
        new ImageWriter().WritePng(bytes, w, h, comps, png);
        return png.ToArray();
    }

    private static (int C, int H, int W) PngShape(Tensor t)
    {
        if (t.Rank == 2) return (1, t.H, t.W);
        if (t.Rank == 3 && (t.C == 1 || t.C == 3)) return (t.C, t.H, t.W);
        throw new ConvGLException($"a PNG holds 1 (gray) or 3 (RGB) channels, the tensor is {t.ShapeString}; write .npy instead");
    }
}
