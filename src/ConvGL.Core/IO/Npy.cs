using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ConvGL.Core.IO;

/// <summary>NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// the magic "\x93NUMPY", a version byte pair, a little-endian header length (2 bytes in version 1.0,
/// 4 bytes in 2.0 and 3.0), an ASCII Python dict literal {'descr', 'fortran_order', 'shape'} padded with
/// spaces to a multiple of 64 bytes and ended by '\n', then the raw array data.
///
/// Read: float32 and float64 ('&lt;f4', '&lt;f8', and their big-endian '&gt;' forms), any rank, C order; float64
/// is narrowed to float32 (ConvGL tensors are float32). Anything else -- Fortran order, another dtype, a
/// truncated or over-long data block, a bad magic -- is a <see cref="ConvGLException"/> naming the file.
/// Write: little-endian float32, C order, version 1.0 (2.0 when the header would not fit in 64 KiB).</summary>
public static partial class Npy
{
    /// <summary>NumPy's own limit on dimensions is 64; no ConvGL array has more than 4.</summary>
    private const int MaxRank = 32;

    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a .npy file. Only the header (at most <see cref="Limits.NpyHeaderBytes"/>) is read before the
    /// file's size is checked against what the header's shape and dtype need, exactly; then the data is read in
    /// blocks straight into the tensor, so a file is never held twice and a header claiming a huge shape costs
    /// nothing. Devices and FIFOs are refused before opening (<see cref="BoundedFile"/>).</summary>
    public static Tensor Read(string path) => WithHeader(path, (stream, header) =>
    {
        MemoryBudget.Check($"'{ErrorText.Echo(path)}': the .npy array {Tensor.ShapeText(header.Shape)} as float32", header.Count * 4L,
                           "use a smaller array");
        var values = new float[header.Count];
        var block = new byte[1 << 16];
        int perBlock = block.Length / header.ItemSize;
        stream.Position = header.DataStart;
        for (int done = 0; done < values.Length;)
        {
            int n = Math.Min(perBlock, values.Length - done);
            stream.ReadExactly(block, 0, n * header.ItemSize);
            header.Convert(block.AsSpan(0, n * header.ItemSize), values.AsSpan(done, n));
            done += n;
        }
        return new Tensor(header.Shape, values);
    });

    /// <summary>The shape a .npy file's header gives, checked as <see cref="Read"/> checks it (the file's size included),
    /// without reading its data: commands check their size limits on it before reading gigabytes (a (1, 30000, 30000)
    /// input read 3.6 GB before apply said its output was over the limit).</summary>
    public static int[] ReadShape(string path) => WithHeader(path, (_, header) => header.Shape);

    /// <summary>Opens <paramref name="path"/> (devices and FIFOs refused), reads and checks its header, and runs
    /// <paramref name="body"/> on the open file; read failures become one <see cref="ConvGLException"/> naming the file.</summary>
    private static T WithHeader<T>(string path, Func<FileStream, Header, T> body)
    {
        using FileStream stream = BoundedFile.OpenRead(path, long.MaxValue, ".npy file", out long length);
        try
        {
            var prefix = new byte[(int)Math.Min(length, 12 + Limits.NpyHeaderBytes)];
            stream.ReadExactly(prefix);
            return body(stream, ParseHeader(prefix, path, length));
        }
        catch (EndOfStreamException e)
        {
            throw new ConvGLException($"'{path}': the .npy file shrank while being read", e);
        }
        catch (IOException e)
        {
            throw new ConvGLException($"cannot read .npy file '{path}': {ErrorText.IoReason(e)}", e);
        }
    }

    /// <summary>Parses .npy bytes; <paramref name="name"/> is only used in error messages.</summary>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string name = "<memory>")
    {
        Header header = ParseHeader(bytes, name, bytes.Length);
        var values = new float[header.Count];
        header.Convert(bytes[header.DataStart..], values);
        return new Tensor(header.Shape, values);
    }

    /// <summary>What the header says: the shape, the dtype's size and byte order, and where the data starts.</summary>
    private sealed record Header(int[] Shape, int Count, int ItemSize, bool BigEndian, int DataStart)
    {
        public void Convert(ReadOnlySpan<byte> data, Span<float> values)
        {
            for (int i = 0; i < values.Length; i++)
            {
                ReadOnlySpan<byte> item = data.Slice(i * ItemSize, ItemSize);
                values[i] = ItemSize == 4
                    ? (BigEndian ? BinaryPrimitives.ReadSingleBigEndian(item) : BinaryPrimitives.ReadSingleLittleEndian(item))
                    : (float)(BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(item) : BinaryPrimitives.ReadDoubleLittleEndian(item));
            }
        }
    }

    /// <summary>Parses the preamble and header from the file's first bytes (<paramref name="bytes"/>: the whole file,
    /// or at least its first 12 + <see cref="Limits.NpyHeaderBytes"/> bytes) and checks that the file's
    /// <paramref name="fileLength"/> is exactly what the shape and dtype need.</summary>
    private static Header ParseHeader(ReadOnlySpan<byte> bytes, string name, long fileLength)
    {
        if (bytes.Length < 6 || !bytes[..6].SequenceEqual(Magic))
            throw new ConvGLException($"'{name}' is not a .npy file (it does not start with the magic \"\\x93NUMPY\")");
        if (bytes.Length < 10)
            throw new ConvGLException($"'{name}': the .npy file is truncated: it ends {bytes.Length} bytes in, inside the preamble before its header");
        int major = bytes[6], minor = bytes[7];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
                headerStart = 10;
                break;
            case 2 or 3:
                if (bytes.Length < 12) throw new ConvGLException($"'{name}': .npy header is truncated");
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                if (len > Limits.NpyHeaderBytes)
                    throw new ConvGLException($"'{name}': .npy header length {len} is over the {Limits.NpyHeaderBytes}-byte limit (NumPy writes a few hundred)");
                headerLength = (int)len;
                headerStart = 12;
                break;
            default:
                throw new ConvGLException($"'{name}': .npy version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)");
        }
        if ((long)headerStart + headerLength > bytes.Length)
            throw new ConvGLException($"'{name}': .npy header is truncated (it says {headerLength} bytes, the file has {fileLength - headerStart} after the preamble)");
        // Version 3.0 only allows UTF-8 in the header (field names of structured dtypes); plain float arrays are ASCII.
        string header = Encoding.UTF8.GetString(bytes.Slice(headerStart, headerLength));

        Match descr = DescrRegex().Match(header);
        Match fortran = FortranRegex().Match(header);
        Match shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new ConvGLException($"'{name}': .npy header is not a dict with 'descr', 'fortran_order' and 'shape': {ErrorText.Echo(header.Trim())}");
        // A key given twice: NumPy's reader (a Python dict literal) takes the last, a first match here would take the
        // first, so the two would read different arrays from the same bytes.
        foreach ((Match m, string key) in new[] { (descr, "descr"), (fortran, "fortran_order"), (shapeMatch, "shape") })
            if (m.NextMatch().Success)
                throw new ConvGLException($"'{name}': .npy header gives '{key}' twice: {ErrorText.Echo(header.Trim())}; save the array again with np.save");
        // Nothing but the three keys (NumPy's reader refuses any other): what is left once they are taken out is the
        // dict's braces, commas and spaces.
        // Keys whose matches overlap (a mangled header where one key's text runs into another's) are no dict either (the
        // removal below would cut past the end; the fuzzer found such headers).
        Match[] keys = [.. new[] { descr, fortran, shapeMatch }.OrderBy(m => m.Index)];
        if (keys[0].Index + keys[0].Length > keys[1].Index || keys[1].Index + keys[1].Length > keys[2].Index)
            throw new ConvGLException($"'{name}': .npy header is not a dict with 'descr', 'fortran_order' and 'shape': {ErrorText.Echo(header.Trim())}; save the array again with np.save");
        string rest = header;
        foreach (Match m in keys.Reverse()) rest = rest.Remove(m.Index, m.Length);
        if (rest.Any(ch => ch is not ('{' or '}' or ',' or ' ' or '\n')) || rest.Count(ch => ch == '{') != 1 || rest.Count(ch => ch == '}') != 1)
            throw new ConvGLException($"'{name}': .npy header holds more than 'descr', 'fortran_order' and 'shape': {ErrorText.Echo(header.Trim())}; save the array again with np.save");
        if (fortran.Groups[1].Value == "True")
            throw new ConvGLException($"'{name}': Fortran-order .npy arrays are not supported; save it with np.save(path, np.ascontiguousarray(a))");

        string dtype = descr.Groups[1].Value;
        (int itemSize, bool bigEndian) = dtype switch
        {
            "<f4" or "=f4" => (4, false),
            ">f4" => (4, true),
            "<f8" or "=f8" => (8, false),
            ">f8" => (8, true),
            _ => throw new ConvGLException($"'{name}': .npy dtype '{ErrorText.Echo(dtype)}' is not supported (float32 '<f4' or float64 '<f8'); convert it with a.astype(np.float32)"),
        };

        int[] shape = ParseShape(shapeMatch.Groups[1].Value, name);
        long count = Tensor.ElementCount(shape);
        // .NET's largest float array holds Array.MaxLength values: above it the read failed as a bare out-of-memory.
        if (count > Array.MaxLength)
            throw new ConvGLException($"'{name}': .npy shape {Tensor.ShapeText(shape)} is too large: " +
                $"{shape.Aggregate(System.Numerics.BigInteger.One, (n, d) => n * d)} values, over the {Array.MaxLength} one array can hold; save a smaller one");
        long dataStart = headerStart + headerLength, have = fileLength - dataStart;
        long need = count * itemSize;
        if (have < need)
            throw new ConvGLException($"'{name}': .npy data is truncated: shape {Tensor.ShapeText(shape)} of {dtype} needs {need} bytes, the file has {have}");
        if (have > need)
            throw new ConvGLException($"'{name}': .npy data has {have - need} bytes more than shape {Tensor.ShapeText(shape)} of {dtype} needs");
        return new Header(shape, (int)count, itemSize, bigEndian, (int)dataStart);
    }

    private static int[] ParseShape(string inner, string name)
    {
        var dims = new List<int>();
        foreach (string part in inner.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (dims.Count == MaxRank) throw new ConvGLException($"'{name}': .npy shape has more than {MaxRank} dimensions");
            // NumPy writes plain integers; older versions on some platforms appended 'L' (Python 2 longs).
            string p = part.TrimEnd('L');
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int d))
                throw new ConvGLException(p.Length > 0 && p.All(char.IsAsciiDigit)
                    ? $"'{name}': .npy shape entry {ErrorText.Echo(part)} is too large (a dimension is at most {int.MaxValue})"
                    : $"'{name}': .npy shape entry '{ErrorText.Echo(part)}' is not a non-negative integer");
            dims.Add(d);
        }
        return [.. dims];
    }

    /// <summary>The .npy bytes of a tensor: little-endian float32, C order.</summary>
    public static byte[] ToBytes(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return ToBytes(tensor, tensor.Shape);
    }

    /// <summary>The header of <paramref name="shapeDims"/> followed by the data of <paramref name="tensor"/> (an empty
    /// tensor gives the header alone).</summary>
    internal static byte[] ToBytes(Tensor tensor, int[] shapeDims)
    {
        string shape = shapeDims.Length switch
        {
            0 => "()",
            1 => $"({shapeDims[0]},)",
            _ => "(" + string.Join(", ", shapeDims) + ")",
        };
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        // The whole preamble + header is padded with spaces to a multiple of 64 and ends in '\n'.
        int major = dict.Length + 1 + 10 <= ushort.MaxValue ? 1 : 2;
        int preamble = major == 1 ? 10 : 12;
        int total = (preamble + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - preamble - 1) + "\n";

        var bytes = new byte[total + tensor.Length * 4L];
        Magic.CopyTo(bytes, 0);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(preamble));
        Span<byte> data = bytes.AsSpan(total);
        for (int i = 0; i < tensor.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(data[(i * 4)..], tensor.Data[i]);
        return bytes;
    }

    /// <summary>Refuses an array given as a command's input that holds a NaN or an infinity (float64 values past
    /// float32's range become infinities on reading): such a value spreads through every window that covers it, and a
    /// picture of the result is min-max scaled by it; one error naming the file, the first such value and the fix.</summary>
    public static void RequireFinite(Tensor tensor, string command, string path)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.FirstNonFinite() is int i and >= 0)
            throw new ConvGLException($"{command}: '{ErrorText.Echo(path)}' holds {tensor.Data[i]} at flat index {i} (of {tensor.Length} values); an input array must be finite " +
                                      "in float32 (NumPy: np.nan_to_num, or clip to +-3.4e38)");
    }

    /// <summary>Refuses an input array shaped as NumPy, OpenCV and PIL hand out pictures, (H, W, C) with C = 1, 3 or 4,
    /// where ConvGL reads (C, H, W): a (300, 400, 3) photo ran as 300 maps of 400x3 and wrote that without a word (a
    /// newcomer review). Taken as channels-last when the last axis has 1, 3 or 4 entries and the other two more than 4
    /// (a map 4 or fewer pixels wide, or 1-4 channels, stay as given).</summary>
    public static void RequireChannelsFirst(Tensor tensor, string command, string path)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Rank == 3 && tensor.Shape[2] is 1 or 3 or 4 && tensor.Shape[0] > 4 && tensor.Shape[1] > 4)
            throw new ConvGLException($"{command}: '{ErrorText.Echo(path)}' has shape {tensor.ShapeString}, which reads as (H, W, C), the order NumPy, OpenCV " +
                                      $"and PIL give pictures; ConvGL takes (C, H, W): save np.transpose(a, (2, 0, 1)) instead, a ({tensor.Shape[2]}, {tensor.Shape[0]}, {tensor.Shape[1]}) array");
    }

    /// <summary>The bytes of a float32 .npy file holding the tensor (for tensors written with others, all or none).</summary>
    public static byte[] Serialize(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return ToBytes(tensor, tensor.Shape);
    }

    /// <summary>Writes a tensor as float32 .npy, atomically (no partial file on failure). The data is streamed in
    /// blocks: a 2^29-value map (the largest a stack plan allows) would not fit one byte array.</summary>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        byte[] header = ToBytes(new Tensor([0]), tensor.Shape);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            var block = new byte[1 << 16];
            for (int done = 0; done < tensor.Length;)
            {
                int n = Math.Min(block.Length / 4, tensor.Length - done);
                for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(block.AsSpan(i * 4), tensor.Data[done + i]);
                stream.Write(block, 0, n * 4);
                done += n;
            }
        });
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
