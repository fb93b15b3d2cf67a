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

    /// <summary>The layout of a wide, low window whose picture is bound by its height: the picture takes the whole height,
    /// and the probe strip (<paramref name="stripHeight"/>) stands at the foot of the side column
    /// (<paramref name="sideWidth"/>, already with its margins, as <see cref="Compute"/>'s column came out) instead of
    /// under the picture.</summary>
    public static LiveLayout StripInColumn(float width, float height, float sideWidth, float stripHeight)
    {
        float pw = Math.Max(1, width - sideWidth);
        return new LiveLayout(
            new PixelRect(0, 0, pw, height),
            new PixelRect(pw, 0, sideWidth, Math.Max(1, height - stripHeight)),
            new PixelRect(pw, Math.Max(1, height - stripHeight), sideWidth, stripHeight));
    }

    /// <summary>The layout of a portrait window: the picture across the whole width at the top
    /// (<paramref name="pictureHeight"/> tall), the column's panels under it across the width, the probe strip
    /// (<paramref name="stripHeight"/>) at the foot. A side column there was ~95 px wide in a 300x1000 window, every line
    /// wrapped, and the picture 186 px wide (a window review).</summary>
    public static LiveLayout ColumnBelow(float width, float height, float pictureHeight, float stripHeight)
    {
        float ph = Math.Clamp(pictureHeight, 1, Math.Max(1, height - stripHeight - 1));
        return new LiveLayout(
            new PixelRect(0, 0, width, ph),
            new PixelRect(0, ph, width, Math.Max(1, height - stripHeight - ph)),
            new PixelRect(0, height - stripHeight, width, stripHeight)) { Below = true };
    }

    /// <summary>Whether the column stands under the picture (<see cref="ColumnBelow"/>).</summary>
    public bool Below { get; init; }

    /// <summary>Whether the probe strip stands in the side column (<see cref="StripInColumn"/>).</summary>
    public bool StripBeside => !Below && Bottom.Height > 0 && Side.Width > 0 && Bottom.X == Side.X;

    /// <summary>This layout with the column moved left against the picture where the picture, fitted to its area,
    /// leaves that area wider than it needs (a tall picture, as the profile and stacked split views draw, in a wide
    /// window): the picture and the column stand together, centred in the window, instead of a gap between them.
    /// <paramref name="content"/> is the view's content size for a picture rectangle; the narrower rectangle is kept
    /// only where the view draws at the same scale in it (the split view may choose another arrangement there).</summary>
    public LiveLayout Hug(Func<PixelRect, (int Width, int Height)> content)
    {
        if (Side.Width <= 0) return this;
        (int cw, int ch) = content(Picture);
        PixelRect fitted = Picture.Fit(Math.Max(1, cw), Math.Max(1, ch));
        float width = MathF.Ceiling(fitted.Width), slack = Picture.Width - width;
        if (slack < 2) return this;
        float x = MathF.Floor(slack / 2);
        var picture = new PixelRect(x, Picture.Y, width, Picture.Height);
        (int nw, int nh) = content(picture);
        PixelRect refit = picture.Fit(Math.Max(1, nw), Math.Max(1, nh));
        if (refit.Width * refit.Height < fitted.Width * fitted.Height * 0.999f) return this;
        return new LiveLayout(picture, new PixelRect(x + width, Side.Y, Side.Width, Side.Height),
            StripBeside ? Bottom with { X = x + width } : Bottom);
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
