namespace ConvGL.Core;

/// <summary>The CONVGL_* environment variables and the values each takes (README, "Speed switches"; the tests' own). The
/// readers took a value they did not know as unset, so a misspelt switch (CONVGL_TUNE=yes, CONVGL_LITERAL_PLAN=0) timed
/// the default plan under the name of another (the hostile-input audit of 2026-12-07): <see cref="Check"/> refuses both
/// before anything runs. An empty value is unset, as a shell's <c>NAME= convgl ...</c> means it.</summary>
public static class EnvSwitches
{
    /// <summary>A switch: its name, the values it takes (null: a path or free text, any value) and what they do, as
    /// the error's fix says it; <paramref name="TestsOnly"/>: read by the test projects, not the app.</summary>
    public sealed record Switch(string Name, string[]? Values, string Meaning, bool TestsOnly = false);

    public const string Prefix = "CONVGL_";

    public static IReadOnlyList<Switch> All { get; } =
    [
        new("CONVGL_SHADERS", null, "the shaders/ folder to build programs from"),
        new("CONVGL_TUNE", ["0", "1"], "1 times each conv layer's plans on first use, 0 keeps the cost rules"),
        new("CONVGL_SPLIT_K", null, "a number of slices (1 to 1024) or auto"),
        new("CONVGL_LITERAL_PLANS", ["0", "1"], "0 turns the weights-compiled-in programs off"),
        new("CONVGL_BUILD_AHEAD", ["0", "1"], "1 compiles literal programs ahead in a scripted run too, 0 never"),
        new("CONVGL_PIN_THREADS", ["0", "1"], "0 leaves llvmpipe's threads unpinned"),
        new("CONVGL_WINOGRAD_BANDS", ["0", "1"], "0 runs large Winograd layers on the direct program instead of in bands"),
        new("CONVGL_PROGRESS", ["0", "off", "1", "on", "always"], "0 or off hides progress lines, always shows every step"),
        new("CONVGL_TRACE", ["0", "1"], "1 prints an internal error's stack trace"),
        new("CONVGL_FUZZ_COUNT", null, "the tests' fuzz inputs per loader", TestsOnly: true),
        new("CONVGL_FUZZ_SEED", null, "the tests' fuzz seed", TestsOnly: true),
        new("CONVGL_FUZZ_FINDINGS", null, "a folder for the tests' fuzz findings", TestsOnly: true),
        new("CONVGL_ONNX_TESTDATA", null, "the tests' copy of the ONNX conformance cases", TestsOnly: true),
    ];

    /// <summary>Why <paramref name="name"/>=<paramref name="value"/> is not a setting ConvGL reads, or null: an unknown
    /// CONVGL_ name or a value the switch does not take. Names outside the prefix are not ConvGL's (null).</summary>
    public static string? Problem(string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith(Prefix, StringComparison.Ordinal) || string.IsNullOrEmpty(value)) return null;
        Switch? s = All.FirstOrDefault(x => x.Name == name);
        if (s is null)
            return $"environment variable {name} is not one ConvGL reads (it reads {string.Join(", ", All.Where(x => !x.TestsOnly).Select(x => x.Name))}; " +
                   "README.md, \"Speed switches\"): unset it, or fix its spelling";
        if (name == "CONVGL_SPLIT_K")
            return value == "auto" || (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 1024)
                ? null
                : $"environment variable CONVGL_SPLIT_K='{ErrorText.Echo(value, 40)}' is not a value it takes ({s.Meaning}): set one, or unset it";
        if (s.Values is null || s.Values.Contains(value, StringComparer.Ordinal)) return null;
        return $"environment variable {name}='{ErrorText.Echo(value, 40)}' is not a value it takes ({string.Join(", ", s.Values)}: {s.Meaning}): " +
               "set one of those, or unset it";
    }

    /// <summary>Throws a <see cref="ConvGLException"/> for the first CONVGL_ variable of this process that
    /// <see cref="Problem"/> refuses (in name order, so the same environment always names the same one).</summary>
    public static void Check()
    {
        var names = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string k && k.StartsWith(Prefix, StringComparison.Ordinal)) names.Add(k);
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
            if (Problem(name, Environment.GetEnvironmentVariable(name)) is { } problem) throw new ConvGLException(problem);
    }
}
