using System.Buffers.Binary;

namespace ConvGL.Core.IO;

/// <summary>What <see cref="JpegScan.Walk"/> could say about a JPEG's image data.</summary>
internal enum JpegCoverage
{
    /// <summary>Not a Huffman-coded sequential JPEG (progressive, arithmetic, lossless), or a structure the walker
    /// does not follow: the decoder's own checks apply.</summary>
    Unknown,
    /// <summary>The scans hold every block the frame header promises.</summary>
    Complete,
    /// <summary>The data ends (a marker, the end of the file, an invalid Huffman code) before the last block.</summary>
    Short,
    /// <summary>A progressive Huffman JPEG (SOF2) whose whole file has fewer bits than its frame has blocks: its first
    /// DC scan codes every block in a bit at least, so the header claims more than the data can hold. <see
    /// cref="JpegScanResult.Fraction"/> is the file's bits over the blocks.</summary>
    TooSmall,
}

/// <summary>The verdict, the frame header's size, the share of the frame's blocks the data covers (1 when
/// complete) and, when not complete, why in a few words.</summary>
internal readonly record struct JpegScanResult(JpegCoverage Coverage, int Width, int Height, double Fraction, string Reason)
{
    public static JpegScanResult Unknown(string why) => new(JpegCoverage.Unknown, 0, 0, 0, why);
}

/// <summary>Whether the entropy-coded data of a baseline (SOF0) or extended sequential (SOF1) Huffman JPEG covers
/// every block its frame header promises, found without decoding a pixel.
///
/// libjpeg-turbo only warns when a scan's data ends early, fills the rest with grey and reports success: a 640x400
/// photo whose header was patched to 4000x8000 decoded into 98.7% grey after 12 s and 1.9 GB. This walk reads the
/// markers (tables, frame, scans) and then each block's Huffman codes, skipping the coefficient bits, so its cost is
/// proportional to the file, not to the size the header claims, and it allocates only the Huffman tables.</summary>
internal static class JpegScan
{
    /// <summary>Huffman codes up to this long are found by one table lookup (most codes are); longer ones by the
    /// canonical-code comparison of the JPEG standard (F.2.2.3).</summary>
    private const int LookupBits = 10;

    private enum Step { Ok, OutOfData, BadCode }

    /// <summary>One Huffman table from a DHT segment: canonical codes of 1 to 16 bits. The walk never needs a
    /// coefficient's value, only how many bits it takes: the code's length plus the extra bits its symbol announces
    /// (a DC symbol is their number; an AC symbol's low four bits are).</summary>
    private sealed class Huffman
    {
        /// <summary>By the next <see cref="LookupBits"/> bits: symbol | (code length + extra bits) &lt;&lt; 8, or 0 when
        /// the code is longer.</summary>
        public readonly int[] Lookup = new int[1 << LookupBits];
        /// <summary>By code length: the largest code of that length, -1 when there is none.</summary>
        public readonly int[] MaxCode = new int[17];
        /// <summary>By code length: what to add to a code of that length to get its index in <see cref="Values"/>.</summary>
        public readonly int[] ValueOffset = new int[17];
        public readonly byte[] Values;
        public readonly bool IsDc;

        private Huffman(byte[] values, bool isDc)
        {
            Values = values;
            IsDc = isDc;
        }

        public int ExtraBits(int symbol) => IsDc ? symbol : symbol & 15;

        /// <summary>The table from its 16 counts (codes of each length) and its symbols; null when the counts do not
        /// make a prefix code or a DC symbol is over 15 (libjpeg refuses such a table itself).</summary>
        public static Huffman? Build(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values, bool isDc)
        {
            var t = new Huffman(values.ToArray(), isDc);
            if (isDc && values.ContainsAnyInRange((byte)16, (byte)255)) return null;
            int code = 0, k = 0;
            for (int len = 1; len <= 16; len++)
            {
                int n = counts[len - 1];
                t.MaxCode[len] = -1;
                if (n > 0)
                {
                    t.ValueOffset[len] = k - code;
                    for (int i = 0; i < n; i++, code++, k++)
                    {
                        if (code >= 1 << len) return null;
                        if (len <= LookupBits)
                        {
                            int first = code << (LookupBits - len);
                            t.Lookup.AsSpan(first, 1 << (LookupBits - len)).Fill(values[k] | (len + t.ExtraBits(values[k])) << 8);
                        }
                    }
                    t.MaxCode[len] = code - 1;
                }
                code <<= 1;
            }
            return t;
        }
    }

    private sealed class Component
    {
        public required int Id, H, V;
        public int Dc, Ac;
        /// <summary>The share of this component's blocks its scan covered; -1 while no scan has named it.</summary>
        public double Covered = -1;
    }

    /// <summary>The entropy-coded data of one scan as a bit stream, most significant bit first: stuffed bytes (FF 00)
    /// are read as FF, and any other marker ends the data. Bits past the end read as 0 but are not counted, so a code
    /// that needs them is reported as running out of data.</summary>
    private ref struct BitReader(ReadOnlySpan<byte> data, int pos)
    {
        private readonly ReadOnlySpan<byte> _b = data;
        /// <summary>The next byte to load into the buffer: after the data ends, the marker's FF (or the file's end).</summary>
        public int Pos = pos;
        private ulong _acc; // left-aligned: the next bit is bit 63
        private int _count; // bits of real data in _acc

        /// <summary>Loads whole bytes until the buffer holds more than 56 bits or the data ends.</summary>
        private void Fill()
        {
            if (Pos + 8 <= _b.Length)
            {
                // Fast path: when none of the next 8 bytes is FF (no stuffing, no marker), take as many as fit at once.
                ulong v = BinaryPrimitives.ReadUInt64BigEndian(_b[Pos..]), inverse = ~v;
                if (((inverse - 0x0101010101010101UL) & ~inverse & 0x8080808080808080UL) == 0)
                {
                    int n = (63 - _count) >> 3;
                    _acc |= (v & ~(ulong.MaxValue >> (8 * n))) >> _count;
                    _count += 8 * n;
                    Pos += n;
                    return;
                }
            }
            while (_count <= 56 && Pos < _b.Length)
            {
                byte x = _b[Pos];
                if (x == 0xFF)
                {
                    if (Pos + 1 >= _b.Length || _b[Pos + 1] != 0) return; // a marker (or a fill byte before one)
                    Pos += 2;
                }
                else
                {
                    Pos++;
                }
                _acc |= (ulong)x << (56 - _count);
                _count += 8;
            }
        }

        /// <summary>Reads one Huffman code and skips the extra bits its symbol announces. A code and its bits take at
        /// most 32 bits, so one refill check covers both.</summary>
        public Step Symbol(Huffman t, out int symbol)
        {
            if (_count < 32) Fill();
            int total, e = t.Lookup[(int)(_acc >> (64 - LookupBits))];
            if (e != 0)
            {
                symbol = e & 0xFF;
                total = e >> 8;
            }
            else
            {
                int code16 = (int)(_acc >> 48), len = LookupBits + 1;
                while (len <= 16 && code16 >> (16 - len) > t.MaxCode[len]) len++;
                int index = len > 16 ? -1 : t.ValueOffset[len] + (code16 >> (16 - len));
                if ((uint)index >= (uint)t.Values.Length)
                {
                    symbol = 0;
                    // A code decided by the zeros past the end of the data is the data running out, not a bad code.
                    return _count < 16 ? Step.OutOfData : Step.BadCode;
                }
                symbol = t.Values[index];
                total = len + t.ExtraBits(symbol);
            }
            if (total > _count) return Step.OutOfData;
            _acc <<= total;
            _count -= total;
            return Step.Ok;
        }

        /// <summary>At a restart: the rest of the current byte is padding; the buffer starts over after the marker.</summary>
        public void Reset()
        {
            _acc = 0;
            _count = 0;
        }
    }

    /// <summary>Walks the JPEG's markers and the entropy-coded data of its scans; stops at the first missing block.</summary>
    public static JpegScanResult Walk(ReadOnlySpan<byte> b)
    {
        if (b.Length < 4 || b[0] != 0xFF || b[1] != 0xD8) return JpegScanResult.Unknown("no start-of-image marker");
        var dc = new Huffman?[4];
        var ac = new Huffman?[4];
        Component[]? comps = null;
        int w = 0, h = 0, hMax = 1, vMax = 1, restartInterval = 0;
        int pos = 2;
        while (true)
        {
            int marker = NextMarker(b, ref pos);
            if (marker < 0 || marker == 0xD9) break; // the end of the file or of the image
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue; // no length
            if (pos + 2 > b.Length) break;
            int length = BinaryPrimitives.ReadUInt16BigEndian(b[pos..]);
            if (length < 2) return JpegScanResult.Unknown($"marker FF {marker:X2} has length {length}");
            if (pos + length > b.Length) break; // cut inside a header segment
            ReadOnlySpan<byte> seg = b.Slice(pos + 2, length - 2);
            pos += length;
            switch (marker)
            {
                case 0xC0 or 0xC1:
                {
                    if (comps is not null) return JpegScanResult.Unknown("a second frame header");
                    if (ReadFrame(seg, out w, out h, out comps, out hMax, out vMax) is { } bad) return bad;
                    break;
                }
                case 0xC2:
                {
                    // Progressive Huffman: its scans are not walked, but its first DC scan takes a bit a block at least
                    // (a 1.6 KB file patched to claim 8000x4000 decoded to 32 grey megapixels in 2.5 GB).
                    if (ReadFrame(seg, out int pw, out int ph, out Component[]? pc, out int ph0, out int pv0) is { } bad) return bad;
                    double blocks = pc!.Sum(c => Blocks(c, pw, ph, ph0, pv0));
                    return 8.0 * b.Length < blocks
                        ? new JpegScanResult(JpegCoverage.TooSmall, pw, ph, 8.0 * b.Length / blocks, F($"{blocks:0} blocks"))
                        : JpegScanResult.Unknown("SOF2: progressive");
                }
                case 0xC3 or (>= 0xC5 and <= 0xC7) or (>= 0xC9 and <= 0xCB) or (>= 0xCD and <= 0xCF):
                    return JpegScanResult.Unknown($"SOF{marker - 0xC0}: progressive, lossless or arithmetic-coded");
                case 0xCC:
                    return JpegScanResult.Unknown("arithmetic coding conditioning (DAC)");
                case 0xC4:
                    if (!ReadTables(seg, dc, ac)) return JpegScanResult.Unknown("a Huffman table that is not valid");
                    break;
                case 0xDD:
                    if (seg.Length < 2) return JpegScanResult.Unknown("a short restart-interval segment");
                    restartInterval = BinaryPrimitives.ReadUInt16BigEndian(seg);
                    break;
                case 0xDA:
                    if (comps is null) return JpegScanResult.Unknown("a scan before the frame header");
                    JpegScanResult? scan = WalkScan(b, ref pos, seg, comps, dc, ac, w, h, hMax, vMax, restartInterval);
                    if (scan is { } stop) return stop;
                    break;
            }
        }
        if (comps is null) return JpegScanResult.Unknown("no frame header");
        Component? missing = comps.FirstOrDefault(c => c.Covered < 0);
        if (missing is not null || comps.Any(c => c.Covered < 1))
            return Short(comps, w, h, hMax, vMax, missing is not null ? $"no scan holds component {missing.Id}" : "a scan ends early");
        return new JpegScanResult(JpegCoverage.Complete, w, h, 1, "");
    }

    /// <summary>A frame header's (SOF) size, components and largest sampling factors; a verdict of Unknown where it is
    /// not one the walk follows, else null.</summary>
    private static JpegScanResult? ReadFrame(ReadOnlySpan<byte> seg, out int w, out int h, out Component[]? comps, out int hMax, out int vMax)
    {
        (w, h, comps, hMax, vMax) = (0, 0, null, 1, 1);
        if (seg.Length < 6) return JpegScanResult.Unknown("a short frame header");
        h = BinaryPrimitives.ReadUInt16BigEndian(seg[1..]);
        w = BinaryPrimitives.ReadUInt16BigEndian(seg[3..]);
        int nf = seg[5];
        // Height 0 defers it to a DNL marker, which libjpeg does not read.
        if (w == 0 || h == 0 || nf is < 1 or > 4 || seg.Length < 6 + 3 * nf)
            return JpegScanResult.Unknown($"frame header {w}x{h} with {nf} components");
        comps = new Component[nf];
        for (int i = 0; i < nf; i++)
        {
            int hv = seg[7 + 3 * i];
            comps[i] = new Component { Id = seg[6 + 3 * i], H = hv >> 4, V = hv & 15 };
            if (comps[i].H is < 1 or > 4 || comps[i].V is < 1 or > 4) return JpegScanResult.Unknown("a sampling factor outside 1..4");
            hMax = Math.Max(hMax, comps[i].H);
            vMax = Math.Max(vMax, comps[i].V);
        }
        return null;
    }

    /// <summary>Component <paramref name="c"/>'s blocks in a <paramref name="w"/> x <paramref name="h"/> frame.</summary>
    private static double Blocks(Component c, int w, int h, int hMax, int vMax) =>
        (double)CeilDiv(CeilDiv((long)w * c.H, hMax), 8) * CeilDiv(CeilDiv((long)h * c.V, vMax), 8);

    /// <summary>The next marker's code after <paramref name="pos"/>, skipping anything else (libjpeg skips such bytes
    /// with a warning; fill bytes FF before a marker are allowed), with <paramref name="pos"/> just after it; -1 at the end.</summary>
    private static int NextMarker(ReadOnlySpan<byte> b, ref int pos)
    {
        while (pos + 1 < b.Length)
        {
            if (b[pos] == 0xFF && b[pos + 1] is not (0x00 or 0xFF))
            {
                pos += 2;
                return b[pos - 1];
            }
            pos++;
        }
        pos = b.Length;
        return -1;
    }

    /// <summary>One DHT segment's tables (it may hold several); false when one is malformed.</summary>
    private static bool ReadTables(ReadOnlySpan<byte> seg, Huffman?[] dc, Huffman?[] ac)
    {
        while (seg.Length > 0)
        {
            if (seg.Length < 17) return false;
            int cls = seg[0] >> 4, slot = seg[0] & 15;
            if (cls > 1 || slot > 3) return false;
            int total = 0;
            for (int i = 1; i <= 16; i++) total += seg[i];
            if (total > 256 || seg.Length < 17 + total) return false;
            Huffman? t = Huffman.Build(seg.Slice(1, 16), seg.Slice(17, total), isDc: cls == 0);
            if (t is null) return false;
            (cls == 0 ? dc : ac)[slot] = t;
            seg = seg[(17 + total)..];
        }
        return true;
    }

    /// <summary>Reads a scan header (<paramref name="seg"/>) and walks its data from <paramref name="pos"/>, leaving
    /// <paramref name="pos"/> where the data ends. Null when the scan holds all its blocks; otherwise the verdict.</summary>
    private static JpegScanResult? WalkScan(ReadOnlySpan<byte> b, ref int pos, ReadOnlySpan<byte> seg, Component[] comps,
        Huffman?[] dc, Huffman?[] ac, int w, int h, int hMax, int vMax, int restartInterval)
    {
        int ns = seg.Length > 0 ? seg[0] : 0;
        if (ns is < 1 or > 4 || seg.Length < 1 + 2 * ns + 3) return JpegScanResult.Unknown("a scan header that is not valid");
        var inScan = new Component[ns];
        int blocksPerMcu = 0;
        for (int i = 0; i < ns; i++)
        {
            int id = seg[1 + 2 * i];
            Component? c = Array.Find(comps, x => x.Id == id);
            if (c is null || c.Covered >= 0 || Array.IndexOf(inScan, c) >= 0) return JpegScanResult.Unknown("a scan names an unknown or already scanned component");
            c.Dc = seg[2 + 2 * i] >> 4;
            c.Ac = seg[2 + 2 * i] & 15;
            if (c.Dc > 3 || c.Ac > 3 || dc[c.Dc] is null || ac[c.Ac] is null) return JpegScanResult.Unknown("a scan uses an undefined Huffman table");
            inScan[i] = c;
            blocksPerMcu += ns == 1 ? 1 : c.H * c.V;
        }
        int ss = seg[1 + 2 * ns], se = seg[2 + 2 * ns], approx = seg[3 + 2 * ns];
        if (ss != 0 || se != 63 || approx != 0) return JpegScanResult.Unknown("a scan that is not sequential");
        if (blocksPerMcu > 10) return JpegScanResult.Unknown("more than 10 blocks in an MCU");

        // Interleaved: MCUs of H x V blocks of each component cover the frame in 8*Hmax x 8*Vmax pixels. One component:
        // one block an MCU, over that component's own size, ceil(W * H / Hmax) x ceil(H * V / Vmax).
        long across, down;
        if (ns == 1)
        {
            Component c = inScan[0];
            across = CeilDiv(CeilDiv((long)w * c.H, hMax), 8);
            down = CeilDiv(CeilDiv((long)h * c.V, vMax), 8);
        }
        else
        {
            across = CeilDiv(w, 8L * hMax);
            down = CeilDiv(h, 8L * vMax);
        }
        long mcus = across * down, done = 0;
        var bits = new BitReader(b, pos);
        Step step = Step.Ok;
        int nextRestart = 0;
        string? missingRestart = null;
        while (done < mcus)
        {
            if (restartInterval > 0 && done > 0 && done % restartInterval == 0)
            {
                // The buffered bits are the padding of the interval's last byte; the restart marker must follow.
                bits.Reset();
                int at = bits.Pos;
                int found = NextMarker(b, ref at);
                if (found != 0xD0 + nextRestart)
                {
                    missingRestart = found < 0 ? "the end of the file" : $"marker FF {found:X2} where RST{nextRestart} belongs";
                    step = Step.OutOfData;
                    break;
                }
                bits = new BitReader(b, at);
                nextRestart = (nextRestart + 1) & 7;
            }
            foreach (Component c in inScan)
            {
                int blocks = ns == 1 ? 1 : c.H * c.V;
                for (int k = 0; k < blocks && step == Step.Ok; k++) step = SkipBlock(ref bits, dc[c.Dc]!, ac[c.Ac]!);
            }
            if (step != Step.Ok) break;
            done++;
        }
        pos = bits.Pos;
        foreach (Component c in inScan) c.Covered = (double)done / mcus;
        if (done == mcus) return null;
        string where = missingRestart ?? (step == Step.BadCode ? "an invalid Huffman code"
            : pos + 1 >= b.Length ? "the end of the file" : $"marker FF {b[pos + 1]:X2}");
        return Short(comps, w, h, hMax, vMax, $"the scan data stops at {where} after {done} of {mcus} {(ns == 1 ? "blocks" : "MCUs")}");
    }

    /// <summary>One 8x8 block: the DC difference's size and bits, then AC run/size symbols and their bits until the
    /// 63 coefficients are accounted for or an end-of-block (0x00); 0xF0 is a run of 16 zeros.</summary>
    private static Step SkipBlock(ref BitReader bits, Huffman dc, Huffman ac)
    {
        Step step = bits.Symbol(dc, out _);
        for (int k = 1; k < 64 && step == Step.Ok;)
        {
            step = bits.Symbol(ac, out int rs);
            if ((rs & 15) != 0) k += (rs >> 4) + 1;
            else if (rs == 0xF0) k += 16;
            else break; // end of block
        }
        return step;
    }

    /// <summary>A short verdict: the share of the frame's blocks (each component's own blocks, weighted by their
    /// number) that the scans so far covered.</summary>
    private static JpegScanResult Short(Component[] comps, int w, int h, int hMax, int vMax, string reason)
    {
        double covered = 0, total = 0;
        foreach (Component c in comps)
        {
            double blocks = Blocks(c, w, h, hMax, vMax);
            covered += Math.Max(c.Covered, 0) * blocks;
            total += blocks;
        }
        return new JpegScanResult(JpegCoverage.Short, w, h, covered / total, reason);
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static string F(FormattableString s) => s.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
