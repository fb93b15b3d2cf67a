namespace ConvGL.Core.Onnx;

/// <summary>The outcome of one ONNX backend test case: pass when every output of every data set is within
/// tolerance; <see cref="MaxError"/> is the largest |got - expected| seen.</summary>
public sealed record OnnxTestResult(string Name, bool Passed, double MaxError, string? Detail);

/// <summary>One ONNX backend conformance case (onnx/backend/test/data/node/test_*): <c>model.onnx</c> plus
/// <c>test_data_set_*/input_N.pb</c> and <c>output_N.pb</c> TensorProto files, N following the graph's input and
/// output order. Values compare as |got - expected| &lt;= <see cref="AbsoluteTolerance"/> + <see cref="RelativeTolerance"/>
/// * |expected|: ONNX's own runner uses rtol 1e-3 with atol 1e-7; the absolute part is 1e-5 here so float32 sums
/// taken in another order (the GPU's) near zero still compare.</summary>
public sealed class OnnxTestCase
{
    public const double AbsoluteTolerance = 1e-5, RelativeTolerance = 1e-3;

    /// <summary>Runs a graph on given inputs, returning its values by name (the CPU reference, or a GPU runner).</summary>
    public delegate IReadOnlyDictionary<string, Tensor> Runner(OnnxGraph graph, IReadOnlyDictionary<string, Tensor> inputs);

    public string Directory { get; }
    public string Name => Path.GetFileName(Directory.TrimEnd('/'));
    public OnnxGraph Graph { get; }
    public IReadOnlyList<(string Name, IReadOnlyDictionary<string, Tensor> Inputs, IReadOnlyList<Tensor> Outputs)> DataSets { get; }

    private OnnxTestCase(string directory, OnnxGraph graph, IReadOnlyList<(string, IReadOnlyDictionary<string, Tensor>, IReadOnlyList<Tensor>)> sets)
    {
        Directory = directory;
        Graph = graph;
        DataSets = sets;
    }

    /// <summary>Why a case folder is missing: a case name one or two edits from one beside it ("did you mean ..."), or, where
    /// its folder is Debian's and absent, the package that has the official cases.</summary>
    private static string MissingCaseHint(string directory)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (!System.IO.Directory.Exists("/usr/share/libonnx-testdata") && full.StartsWith("/usr/share/libonnx-testdata", StringComparison.Ordinal))
            return " (the official cases are Debian's libonnx-testdata: sudo apt-get install libonnx-testdata, or scripts/install-deps.sh --test)";
        // The first missing folder on the way: a case name beside its siblings, or a misspelt folder above it ("nodee").
        string? parent = Path.GetDirectoryName(full), missing = full;
        while (parent is not null && !System.IO.Directory.Exists(parent)) (missing, parent) = (parent, Path.GetDirectoryName(parent));
        if (parent is null) return "";
        string[] siblings = System.IO.Directory.GetDirectories(parent).Select(Path.GetFileName).OfType<string>().ToArray();
        string name = Path.GetFileName(missing);
        string near = name.Length <= 64 ? Kernels.KernelLibrary.DidYouMean(name, siblings) : "";
        if (missing != full)
            return $" (no folder {missing}{(near.Length > 0 ? $": {near.TrimEnd()}" : $"; the folders there: ls {parent}")})";
        if (near.Length > 0) return $" ({near.TrimEnd()}; the cases there: ls {parent})";
        // A name cut short ("test_conv_with_stride"): the cases it begins.
        string[] longer = name.Length > 0 ? siblings.Where(n => n.StartsWith(name, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray() : [];
        if (longer.Length > 0)
            return $" (cases that begin so: {string.Join(", ", longer.Take(4))}{(longer.Length > 4 ? $" and {longer.Length - 4} more" : "")})";
        // A folder without cases (the user's own, for a case name typed wrongly): what a case is, and where the official
        // ones are, rather than "the cases there" (an audit).
        bool hasCases = siblings.Take(256).Any(n => n.StartsWith("test_", StringComparison.Ordinal) || File.Exists(Path.Combine(parent, n, "model.onnx")));
        return hasCases ? $" (the cases there: ls {parent})"
            : " (a test case is a folder holding model.onnx and test_data_set_*/; the official ones are under /usr/share/libonnx-testdata/data/node)";
    }

    /// <summary>Reads the case; any problem (missing files, unreadable protobuf, unsupported op) is a <see cref="ConvGLException"/>.</summary>
    public static OnnxTestCase Load(string directory)
    {
        if (File.Exists(directory))
            throw new ConvGLException($"{directory}: {(ConvGL.Core.IO.BoundedFile.IsRegularFile(directory) ? "a file" : "a device, FIFO or socket")}, where onnx-test takes a test case's folder (model.onnx and test_data_set_*/ with " +
                                      "input_N.pb and output_N.pb); to run a model on an image: convgl features IMAGE --stack MODEL.onnx --out DIR");
        if (!System.IO.Directory.Exists(directory))
            throw new ConvGLException($"{directory}: no such test case directory" + MissingCaseHint(directory));
        string model = Path.Combine(directory, "model.onnx");
        if (!File.Exists(model))
        {
            // A folder of cases (node/ rather than node/test_relu): say how to run them all.
            bool ofCases = System.IO.Directory.EnumerateDirectories(directory).Take(64).Any(d => File.Exists(Path.Combine(d, "model.onnx")));
            throw new ConvGLException($"{directory}: no model.onnx (an ONNX backend test case holds model.onnx and test_data_set_*/)" +
                                      (ofCases ? $"; it holds cases: give them, e.g. {Path.Combine(directory, "*")}" : ""));
        }
        OnnxGraph graph = OnnxGraph.Load(model);
        // A written negative input dimension is a damaged declaration (-1, which some exporters write, is free; 0 is an
        // empty axis, as the official Reduce cases' empty 'axes' input has).
        foreach (OnnxValueInfo input in graph.Inputs)
            if (input.Declared?.Any(d => d < 0) == true)
                throw new ConvGLException($"{model}: input '{ErrorText.Echo(input.Name)}' declares the shape {input.DeclaredString}; a fixed dimension is 0 or more");
        string[] setDirs = System.IO.Directory.GetDirectories(directory, "test_data_set_*").Order(StringComparer.Ordinal).ToArray();
        if (setDirs.Length == 0) throw new ConvGLException($"{directory}: no test_data_set_* directory");
        var sets = new List<(string, IReadOnlyDictionary<string, Tensor>, IReadOnlyList<Tensor>)>();
        foreach (string set in setDirs)
        {
            var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int i = 0; i < graph.Inputs.Count; i++)
            {
                Tensor t = OnnxReader.ReadTensorFile(Path.Combine(set, $"input_{i}.pb"), out int dataType).Tensor;
                // An input the model's own declaration rules out is a broken case (ERROR), not a failed run (FAIL): its
                // shape, or its element type (INT64 data for a FLOAT input was read as floats and failed).
                OnnxValueInfo info = graph.Inputs[i];
                if (info.ElemType != 0 && dataType != info.ElemType)
                    throw new ConvGLException($"{Path.Combine(set, $"input_{i}.pb")}: holds {OnnxReader.DataTypeName(dataType)} data, the model's input '{ErrorText.Echo(info.Name)}' is {OnnxReader.DataTypeName(info.ElemType)}");
                // (The declared sizes, 0 included, which Shape reads as unknown.)
                if (info.Shape is { } shape && (shape.Length != t.Rank || shape.Where((d, k) => d >= 0 && d != t.Shape[k]).Any()
                                                || info.Declared?.Where((d, k) => d >= 0 && d != t.Shape[k]).Any() == true))
                    throw new ConvGLException($"{Path.Combine(set, $"input_{i}.pb")}: shape {t.ShapeString} does not fit the model's input '{info.Name}' {info.DeclaredString}");
                inputs[info.Name] = t;
            }
            var outputs = new Tensor[graph.Outputs.Count];
            for (int i = 0; i < outputs.Length; i++)
                outputs[i] = OnnxReader.ReadTensorFile(Path.Combine(set, $"output_{i}.pb")).Tensor;
            // A data file beyond the model's inputs or outputs belongs to another model: the case is not this one's. Every
            // input_*.pb and output_*.pb is checked, not only the next number (the hostile-input audit's output_3.pb beside
            // a one-output model's output_0.pb, and an input_x.pb, were ignored and the case passed).
            foreach ((string kind, int count) in new[] { ("input", graph.Inputs.Count), ("output", graph.Outputs.Count) })
                foreach (string file in System.IO.Directory.EnumerateFiles(set, $"{kind}_*.pb").Order(StringComparer.Ordinal).Take(100_000))
                    if (!Enumerable.Range(0, count).Any(i => Path.GetFileName(file) == $"{kind}_{i}.pb"))
                        throw new ConvGLException($"{file}: the model has {count} {kind}{(count == 1 ? "" : "s")}" +
                                                  (count == 0 ? "" : $" ({kind}_0{(count > 1 ? $" to {kind}_{count - 1}" : "")})") + "; this file is not its");
            sets.Add((Path.GetFileName(set), inputs, outputs));
        }
        return new OnnxTestCase(directory, graph, sets);
    }

    /// <summary>The CPU reference runner.</summary>
    public static IReadOnlyDictionary<string, Tensor> RunCpu(OnnxGraph graph, IReadOnlyDictionary<string, Tensor> inputs) => graph.Run(inputs);

    public OnnxTestResult Run(Runner runner)
    {
        double maxError = 0;
        foreach ((string set, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<Tensor> expected) in DataSets)
        {
            IReadOnlyDictionary<string, Tensor> values;
            try
            {
                values = runner(Graph, inputs);
            }
            catch (ConvGLException e) when (e is not OnnxUnsupportedException)
            {
                return new OnnxTestResult(Name, false, double.NaN, $"{set}: {e.Message}");
            }
            for (int i = 0; i < expected.Count; i++)
            {
                string name = Graph.Outputs[i].Name;
                Tensor got = values[name], want = expected[i];
                if (!got.SameShape(want))
                    return new OnnxTestResult(Name, false, double.NaN, $"{set}: output '{name}' has shape {got.ShapeString}, expected {want.ShapeString}");
                (double error, int worst) = Compare(got, want);
                maxError = Math.Max(maxError, error);
                if (worst >= 0)
                    return new OnnxTestResult(Name, false, maxError,
                        $"{set}: output '{name}'[{worst}] = {got.Data[worst]}, expected {want.Data[worst]} (|diff| {Difference(got.Data[worst], want.Data[worst]):G3})");
            }
        }
        return new OnnxTestResult(Name, true, maxError, null);
    }

    /// <summary>|got - want|, 0 for equal values (two equal infinities) and infinite for a NaN against a number: the one
    /// rule the summary's max error and the failure's |diff| both print (they said Infinity and NaN for one output).</summary>
    private static double Difference(double got, double want) =>
        got == want ? 0 : Math.Abs(got - want) is var d && double.IsNaN(d) ? double.PositiveInfinity : d;

    /// <summary>The largest |got - want| and the first index outside tolerance (-1 when none). NaN matches only NaN and an
    /// infinity only the same infinity, as in ONNX's runner (NumPy's assert_allclose, equal_nan); a NaN against a number
    /// is an infinite error.</summary>
    public static (double MaxError, int FirstBad) Compare(Tensor got, Tensor want)
    {
        double max = 0;
        int bad = -1;
        for (int k = 0; k < want.Length; k++)
        {
            double g = got.Data[k], w = want.Data[k];
            if (double.IsNaN(g) && double.IsNaN(w)) continue;
            double diff = Difference(g, w);
            max = Math.Max(max, diff);
            // An infinity matches only the same infinity (NumPy's assert_allclose): the tolerance, relative to |w|, is
            // infinite there, and a finite result passed against an expected +inf (the hostile-input audit).
            bool close = double.IsInfinity(w) ? g == w : diff <= AbsoluteTolerance + RelativeTolerance * Math.Abs(w);
            if (bad < 0 && !close) bad = k;
        }
        return (max, bad);
    }
}
