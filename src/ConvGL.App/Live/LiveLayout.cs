namespace ConvGL.App.Live;

/// <summary>Where things go in the window, so the picture is never covered: the info and kernel panels dock in a
/// column on the right, the probe in a strip below the picture, and the picture (any view) takes what is left.
/// Pure arithmetic on sizes, so it is tested without a window.</summary>
internal sealed record LiveLayout(PixelRect Picture, PixelRect Side, PixelRect Bottom)
{
    public const float Margin = 8;

    /// <summary>The layout of a <paramref name="width"/> x <paramref name="height"/> window whose side panels want
    /// <paramref name="sideWidth"/> pixels (0: none) and whose bottom strip wants <paramref name="bottomHeight"/>
    /// (0: none). The side column takes at most 45% of the width and the strip 40% of the height (their text is
    /// wrapped to fit), so the picture keeps most of the window.</summary>
    public static LiveLayout Compute(float width, float height, float sideWidth, float bottomHeight)
    {
        float side = sideWidth <= 0 ? 0 : Math.Min(sideWidth + 2 * Margin, MathF.Floor(width * 0.45f));
        float bottom = bottomHeight <= 0 ? 0 : Math.Min(bottomHeight + Margin, MathF.Floor(height * 0.4f));
        float pw = Math.Max(1, width - side), ph = Math.Max(1, height - bottom);
        return new LiveLayout(
            new PixelRect(0, 0, pw, ph),
            new PixelRect(pw, 0, side, height),
            new PixelRect(0, ph, pw, bottom));
    }
}
