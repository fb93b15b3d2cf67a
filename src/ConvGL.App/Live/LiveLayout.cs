namespace ConvGL.App.Live;

/// <summary>Where things go in the window, so the picture is never covered: the info and kernel panels dock in a
/// column on the right, the probe in a strip below the picture, and the picture (any view) takes what is left.
/// Pure arithmetic on sizes, so it is tested without a window.</summary>
internal sealed record LiveLayout(PixelRect Picture, PixelRect Side, PixelRect Bottom)
{
    public const float Margin = 8;

    /// <summary>The layout of a <paramref name="width"/> x <paramref name="height"/> window whose side panels want
    /// <paramref name="sideWidth"/> pixels (0: none) and whose bottom strip wants <paramref name="bottomHeight"/>
    /// (0: none). The strip spans the whole width (the probe's rows are wide); the side column stands right of the
    /// picture, above the strip. The column takes at most 38% of the width and the strip 40% of the height (their
    /// text is wrapped to fit), so the picture keeps most of the window.</summary>
    public static LiveLayout Compute(float width, float height, float sideWidth, float bottomHeight)
    {
        float side = sideWidth <= 0 ? 0 : Math.Min(sideWidth + 2 * Margin, MathF.Floor(width * 0.38f));
        float bottom = bottomHeight <= 0 ? 0 : Math.Min(bottomHeight + Margin, MathF.Floor(height * 0.4f));
        float pw = Math.Max(1, width - side), ph = Math.Max(1, height - bottom);
        return new LiveLayout(
            new PixelRect(0, 0, pw, ph),
            new PixelRect(pw, 0, side, ph),
            new PixelRect(0, ph, width, bottom));
    }

    /// <summary>The side column's width for a picture of <paramref name="contentWidth"/> x <paramref name="contentHeight"/>:
    /// from the width its text wants (<paramref name="wanted"/>) down to <paramref name="narrowest"/>, the one that
    /// lets the picture grow largest while the column's wrapped text (<paramref name="columnHeight"/> of a column
    /// width) still fits its height. A wide window keeps the wanted width (the picture is height-bound anyway); a
    /// narrower one wraps the text more and gives the picture the width (the picture never letterboxes beside a
    /// half-empty column). Ties go to the wider column, which wraps less.</summary>
    public static float ChooseSide(float width, float height, float bottomHeight, float wanted, float narrowest,
        int contentWidth, int contentHeight, Func<float, float> columnHeight) =>
        ChooseSide(width, height, bottomHeight, wanted, narrowest, _ => (contentWidth, contentHeight), columnHeight);

    /// <summary>The same for a view whose content depends on the picture's rectangle (<paramref name="content"/>: the
    /// split view stacks or not, the grid picks its rows and columns, for the rectangle it is given), asked for each
    /// column width tried, so the column is chosen for the picture the view then draws.</summary>
    public static float ChooseSide(float width, float height, float bottomHeight, float wanted, float narrowest,
        Func<PixelRect, (int Width, int Height)> content, Func<float, float> columnHeight)
    {
        if (wanted <= 0) return 0;
        float best = wanted, bestScale = -1;
        const float step = 8;
        for (float side = wanted; ; side = Math.Max(narrowest, side - step))
        {
            LiveLayout l = Compute(width, height, side, bottomHeight);
            (int contentWidth, int contentHeight) = content(l.Picture);
            float scale = Math.Min(l.Picture.Width / Math.Max(1, contentWidth), l.Picture.Height / Math.Max(1, contentHeight));
            bool fits = columnHeight(l.Side.Width) <= l.Side.Height;
            if ((fits || bestScale < 0) && scale > bestScale * 1.005f)
            {
                best = side;
                bestScale = scale;
            }
            if (!fits || side <= narrowest) break;
        }
        return best;
    }
}
