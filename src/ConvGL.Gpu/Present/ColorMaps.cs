namespace ConvGL.Gpu.Present;

/// <summary>The colour maps of shaders/present/colormap.glsl evaluated on the CPU, for what the HUD draws beside the
/// maps (the colour bar): the same formulas, so a bar's colour at t is the colour a map value at t gets (a GPU test
/// compares the two).</summary>
public static class ColorMaps
{
    /// <summary>Red, green and blue in [0, 1] of <paramref name="map"/> at <paramref name="t"/> (clamped to [0, 1]).</summary>
    public static (float R, float G, float B) At(ColorMap map, float t)
    {
        t = float.IsNaN(t) ? 0 : Math.Clamp(t, 0, 1);
        switch (map)
        {
            case ColorMap.Heat:
                return (Math.Clamp(3 * t, 0, 1), Math.Clamp(3 * t - 1, 0, 1), Math.Clamp(3 * t - 2, 0, 1));
            case ColorMap.Diverging:
                return t < 0.5f ? (2 * t, 2 * t, 1) : (1, 1 - (2 * t - 1), 1 - (2 * t - 1));
            case ColorMap.Viridis:
                return (Viridis(t, 0.2777f, 0.1051f, -0.3309f, -4.6342f, 6.2283f, 4.7764f, -5.4355f),
                        Viridis(t, 0.0054f, 1.4046f, 0.2148f, -5.7991f, 14.1799f, -13.7451f, 4.6459f),
                        Viridis(t, 0.3341f, 1.3846f, 0.0951f, -19.3324f, 56.6906f, -65.3530f, 26.3124f));
            default:
                return (t, t, t);
        }
    }

    // colormap.glsl's polynomial for one component, evaluated the same way (Horner's rule).
    private static float Viridis(float t, float c0, float c1, float c2, float c3, float c4, float c5, float c6) =>
        c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));

    /// <summary>The map's name as the HUD says it.</summary>
    public static string Name(ColorMap map) => map switch
    {
        ColorMap.Heat => "heat",
        ColorMap.Diverging => "diverging",
        ColorMap.Viridis => "viridis",
        _ => "gray",
    };
}
