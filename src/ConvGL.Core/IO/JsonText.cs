using System.Text.Json;

namespace ConvGL.Core.IO;

/// <summary>System.Text.Json accepts an escaped lone surrogate ("\ud800") while parsing a document and throws
/// InvalidOperationException only when that name or string is read. The loaders read every name and string once,
/// here, right after parsing, so a later read never meets one and the error can say where it is.</summary>
internal static class JsonText
{
    /// <summary>Throws <paramref name="error"/>(where) for the first name or string that is not valid UTF-16 text;
    /// where is a path such as <c>layers[0].kernels[1]</c> (echo-safe), or "a field name in PATH".</summary>
    public static void CheckStrings(JsonElement el, Func<string, Exception, ConvGLException> error, string where = "")
    {
        switch (el.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty p in el.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException e)
                    {
                        throw error($"a field name in {(where.Length == 0 ? "the top-level object" : where)}", e);
                    }
                    CheckStrings(p.Value, error, where.Length == 0 ? ErrorText.Echo(name, 40) : $"{where}.{ErrorText.Echo(name, 40)}");
                }
                break;
            case JsonValueKind.Array:
                int i = 0;
                foreach (JsonElement item in el.EnumerateArray()) CheckStrings(item, error, $"{where}[{i++}]");
                break;
            case JsonValueKind.String:
                try
                {
                    _ = el.GetString();
                }
                catch (InvalidOperationException e)
                {
                    throw error($"field '{where}'", e);
                }
                break;
        }
    }

    /// <summary>The end of every such message.</summary>
    public const string NotText = "is not valid text (a lone UTF-16 surrogate escape such as \\ud800?)";
}
