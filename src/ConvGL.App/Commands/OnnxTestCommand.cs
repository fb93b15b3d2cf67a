using System.CommandLine;
using System.Globalization;
using ConvGL.App.Cli;
using ConvGL.Core;
using ConvGL.Core.Onnx;
using ConvGL.Gpu;
using ConvGL.Gpu.Onnx;

namespace ConvGL.App.Commands;

/// <summary><c>convgl onnx-test CASE_DIR... [--device cpu|gpu]</c>: runs ONNX backend test cases (a directory
/// holding <c>model.onnx</c> and <c>test_data_set_*/input_N.pb, output_N.pb</c>, as in onnx/backend/test/data/node
/// and Debian's libonnx-testdata) and prints one line per case:
///
///     pass  test_relu  max error 0
///     FAIL  test_x  max error 0.0123  test_data_set_0: output 'y'[3] = ..., expected ...
///     ERROR test_y  cannot read: model.onnx: node 'n' (Softmax): op Softmax is not supported (...)
///
/// then a summary. Exit 0 only when every case passed; 2 when a case could not be read (missing files, a bad
/// protobuf, an op or attribute ConvGL does not support); 1 when all were read but one failed. Tolerance:
/// <see cref="OnnxTestCase.AbsoluteTolerance"/> + <see cref="OnnxTestCase.RelativeTolerance"/> * |expected|.</summary>
internal static class OnnxTestCommand
{
    public const string Usage = "convgl onnx-test CASE_DIR... [--device cpu|gpu]";

    private static readonly Argument<string[]> CaseDirs = new("CASE_DIR")
    {
        Description = "ONNX backend test case directories (model.onnx + test_data_set_*/input_N.pb, output_N.pb), " +
                      "e.g. /usr/share/libonnx-testdata/data/node/test_relu",
        Arity = ArgumentArity.OneOrMore,
    };
    private static readonly Option<Device> DeviceOption = Opt.DeviceChoice();

    public static Command Create() => CliRoot.Define("onnx-test",
        "Runs ONNX backend test cases on ConvGL (CPU reference or GPU) and prints one line per case (pass/fail, max error); " +
        "exit 0 when all pass, 1 when one fails, 2 when one cannot be read.",
        typeof(OnnxTestCommand), Run);

    private static int Run(ParseResult args) =>
        Run(args.GetValue(CaseDirs) ?? [], args.GetValue(DeviceOption) == Device.Gpu ? "gpu" : "cpu", Console.Out);

    /// <summary>The command's logic, independent of how the command line was parsed.</summary>
    public static int Run(IReadOnlyList<string> caseDirs, string device, TextWriter output)
    {
        if (caseDirs.Count == 0) throw new ConvGLException($"onnx-test: give at least one test case directory ({Usage})");
        if (device is not ("cpu" or "gpu")) throw new ConvGLException($"onnx-test: --device '{device}' is not one of cpu, gpu");
        using GpuOnnxSession? gpu = device == "gpu" ? new GpuOnnxSession() : null;
        OnnxTestCase.Runner runner = gpu is null ? OnnxTestCase.RunCpu : gpu.Run;
        int passed = 0, failed = 0, unreadable = 0;
        using var progress = new Progress("convgl onnx-test");
        for (int i = 0; i < caseDirs.Count; i++)
        {
            string dir = caseDirs[i];
            string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(dir));
            progress.Step(i, caseDirs.Count, name);
            OnnxTestCase c;
            try
            {
                c = OnnxTestCase.Load(dir);
            }
            catch (ConvGLException e)
            {
                unreadable++;
                progress.Interrupt();
                output.WriteLine($"ERROR {name}  cannot read: {e.Message}");
                continue;
            }
            OnnxTestResult r;
            try
            {
                r = c.Run(runner);
            }
            catch (OnnxUnsupportedException e)
            {
                // An op found unsupported only at run time (its weight's rank): an ERROR as a load-time refusal is.
                unreadable++;
                progress.Interrupt();
                output.WriteLine($"ERROR {name}  cannot run: {e.Message}");
                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Not a refusal the runner knows (those are failed results): still this case's line, and the run goes on.
                r = new OnnxTestResult(name, false, double.NaN, $"internal error: {e.GetType().Name}: {ErrorText.OneLine(e.Message)}");
            }
            progress.Interrupt();
            string error = double.IsNaN(r.MaxError) ? "-" : r.MaxError.ToString("G3", CultureInfo.InvariantCulture);
            if (r.Passed)
            {
                passed++;
                output.WriteLine($"pass  {name}  max error {error}");
            }
            else
            {
                failed++;
                output.WriteLine($"FAIL  {name}  max error {error}  {r.Detail}");
            }
        }
        progress.Complete();
        output.WriteLine($"onnx-test ({device}): {passed} passed, {failed} failed, {unreadable} unreadable");
        return unreadable > 0 ? 2 : failed > 0 ? 1 : 0;
    }

    /// <summary>One headless GL context for all cases; each case's graph gets its own runner.</summary>
    private sealed class GpuOnnxSession : IDisposable
    {
        private readonly GlContext _context = GlContext.CreateHeadless(debug: false);

        public IReadOnlyDictionary<string, Tensor> Run(OnnxGraph graph, IReadOnlyDictionary<string, Tensor> inputs)
        {
            try
            {
                using var runner = new GpuOnnxRunner(_context, graph);
                return runner.Run(inputs);
            }
            catch (GpuException e)
            {
                // This GPU's limits, not the case: a failed case with the reason and the way round it.
                throw new ConvGLException($"GPU: {ErrorText.JoinLines(e.Message)}; run it with --device cpu");
            }
        }

        public void Dispose() => _context.Dispose();
    }
}
