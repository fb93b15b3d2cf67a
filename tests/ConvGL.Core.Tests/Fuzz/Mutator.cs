using System.Text;

namespace ConvGL.Core.Tests.Fuzz;

/// <summary>A deterministic byte mutator in the AFL/libFuzzer style: each input is a valid seed with one to eight
/// stacked edits (bit flips, random and "interesting" values, inserted, deleted, duplicated and spliced ranges,
/// truncation, tokens from a per-format dictionary). The same (seed bytes, Random state) gives the same input,
/// so a finding is reproduced from its target, run seed and index.</summary>
internal static class Mutator
{
    /// <summary>Values that sit on the edges parsers get wrong: 0, -1, sign bits, 2^16, 2^24, int.MaxValue.</summary>
    private static readonly long[] Interesting =
        [0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x1000000, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, 16384, 16385, 65535];

    public static byte[] Mutate(byte[] seed, Random rng, IReadOnlyList<byte[]> dictionary, IReadOnlyList<byte[]> corpus)
    {
        var b = new List<byte>(seed);
        int edits = 1 << rng.Next(4); // 1, 2, 4 or 8
        for (int e = 0; e < edits; e++)
        {
            int pos = b.Count == 0 ? 0 : rng.Next(b.Count);
            switch (rng.Next(11))
            {
                case 0 when b.Count > 0:
                    b[pos] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1 when b.Count > 0:
                    b[pos] = (byte)rng.Next(256);
                    break;
                case 2 when b.Count > 0:
                {
                    long v = Interesting[rng.Next(Interesting.Length)];
                    int width = 1 << rng.Next(4);
                    bool bigEndian = rng.Next(2) == 0;
                    for (int i = 0; i < width && pos + i < b.Count; i++)
                        b[pos + i] = (byte)(v >> (8 * (bigEndian ? width - 1 - i : i)));
                    break;
                }
                case 3 when b.Count > 0:
                    b.RemoveRange(pos, Math.Min(b.Count - pos, 1 + rng.Next(Math.Max(1, b.Count / 8))));
                    break;
                case 4:
                {
                    int n = 1 + rng.Next(16);
                    var r = new byte[n];
                    rng.NextBytes(r);
                    b.InsertRange(pos, r);
                    break;
                }
                case 5 when dictionary.Count > 0:
                    b.InsertRange(pos, dictionary[rng.Next(dictionary.Count)]);
                    break;
                case 6 when dictionary.Count > 0 && b.Count > 0:
                {
                    byte[] token = dictionary[rng.Next(dictionary.Count)];
                    for (int i = 0; i < token.Length && pos + i < b.Count; i++) b[pos + i] = token[i];
                    break;
                }
                case 7 when b.Count > 0:
                {
                    int start = rng.Next(b.Count), len = 1 + rng.Next(Math.Min(64, b.Count - start));
                    b.InsertRange(pos, b.GetRange(start, len));
                    break;
                }
                case 8 when b.Count > 0:
                    b.RemoveRange(pos, b.Count - pos);
                    break;
                case 9 when corpus.Count > 0:
                {
                    byte[] other = corpus[rng.Next(corpus.Count)];
                    if (other.Length == 0) break;
                    int from = rng.Next(other.Length);
                    b.RemoveRange(pos, b.Count - pos);
                    b.AddRange(other.AsSpan(from).ToArray());
                    break;
                }
                default:
                    if (b.Count > 0) b[pos] = (byte)(b[pos] + rng.Next(-8, 9));
                    break;
            }
        }
        return b.ToArray();
    }

    public static byte[][] Tokens(params string[] tokens) => tokens.Select(t => Encoding.UTF8.GetBytes(t)).ToArray();

    /// <summary>Rewrites every chunk CRC of a PNG-shaped input, so mutations reach the decoder behind the checksums
    /// (libpng rejects a critical chunk with a bad CRC before inflating it).</summary>
    public static byte[] FixPngCrcs(byte[] png)
    {
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            long length = (uint)(png[pos] << 24 | png[pos + 1] << 16 | png[pos + 2] << 8 | png[pos + 3]);
            if (pos + 12 + length > png.Length) break;
            uint crc = Crc32(png.AsSpan(pos + 4, (int)length + 4));
            int at = pos + 8 + (int)length;
            png[at] = (byte)(crc >> 24);
            png[at + 1] = (byte)(crc >> 16);
            png[at + 2] = (byte)(crc >> 8);
            png[at + 3] = (byte)crc;
            pos = at + 4;
        }
        return png;
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The CRC-32 of the PNG specification (ISO 3309, polynomial 0xEDB88320, reflected).</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte d in data) c = CrcTable[(c ^ d) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFF;
    }
}
