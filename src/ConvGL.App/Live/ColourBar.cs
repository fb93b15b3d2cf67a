using System.Globalization;
using ConvGL.Gpu;
using ConvGL.Gpu.Present;

namespace ConvGL.App.Live;

/// <summary>The map a view's colours are explained by (the HUD's colour bar): map <paramref name="Channel"/> of
/// <paramref name="Layer"/>'s output <paramref name="Tensor"/>, whose range the view computed into the window's output
/// ranges as it drew; <paramref name="EachOwn"/> where the view scales every map by its own range (the grid, the
/// filters view); <paramref name="Rgb"/> where three maps are drawn as one colour picture sharing one range (a
/// three-map output in the output, split and profile views). <paramref name="Ranges"/>: where the view keeps the range
/// itself (the theorem view's direct and FFT maps share <see cref="TheoremPass.DirectRange"/>, its entry 0), else null for
/// the window's output ranges, indexed by channel.</summary>
internal readonly record struct ColourBarMap(GpuTensor Tensor, int Layer, int Channel, bool EachOwn, bool Rgb = false, ChannelRanges? Ranges = null);

/// <summary>What the colour bar says: a title, the colour map, and the shown map's min and max: what value a colour
/// stands for (every map is drawn min -> max across the whole colour map, so the same colour means different values
/// on different maps).</summary>
internal sealed record ColourBar(string Title, ColorMap Map, float Min, float Max)
{
    /// <summary>The bar of map <paramref name="channel"/> (named <paramref name="name"/>) of a <paramref name="channels"/>-map
    /// output whose range is (<paramref name="min"/>, <paramref name="max"/>) (NaN: not computed yet). A three-map output is
    /// drawn as red, green and blue sharing one range where <paramref name="rgb"/> (<paramref name="min"/>,
    /// <paramref name="max"/> is then the three's).</summary>
    public static ColourBar Of(int channels, int channel, string name, bool eachOwn, bool rgb, float min, float max)
    {
        string map = HudText.MapLabel(channel, name);
        // One map is no "each map"; a constant map has one value, not a min and a max.
        eachOwn &= channels > 1;
        bool constant = min == max;
        if (rgb && constant) return new ColourBar("channels 0-2 as red, green, blue: one value", ColorMap.Gray, min, max);
        if (rgb)
            return new ColourBar("channels 0-2 as red, green, blue, one range:", ColorMap.Gray, min, max);
        ColorMap colours = channels == 1 ? ColorMap.Gray : ColorMap.Viridis;
        string title = eachOwn
            ? F($"each map {ColorMaps.Name(colours)} from its own min to max; channel {map}:")
            : constant ? F($"{ColorMaps.Name(colours)}, one value: channel {map}") : F($"{ColorMaps.Name(colours)} from min to max: channel {map}");
        return new ColourBar(title, colours, min, max);
    }

    /// <summary>A value as the bar prints it: 4 significant digits ("2.099e-08" with a small e, as every other number on
    /// screen writes its exponent), "-" before any is known.</summary>
    public static string Number(float v) =>
        float.IsNaN(v) ? "-" : v == 0 ? "0" : v.ToString("G4", CultureInfo.InvariantCulture).Replace('E', 'e');

    /// <summary>The line under the title when the map is constant (min == max): one colour, one value.</summary>
    public bool Constant => Min == Max;

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
