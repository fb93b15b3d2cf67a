namespace ConvGL.App.Live;

/// <summary>Where a probed position looks: an attention layer's weights over the key map as a picture laid over the
/// probed map (the window draws it when the probe is on an attention layer; key a hides it). A spotlight: key j's pixel is
/// darkened by <see cref="Dim"/> x (1 - w[j] / max w), so the key weighted most shows the map as it is and a key of weight
/// 0 is dimmed the most, over a map of any colour (a heat colour on a red object read as the object). Linear in the
/// weight: a flat softmax (scale 0: every key 1 / n) dims nothing, a sharp one lights a few pixels; the strip gives the
/// numbers.</summary>
internal static class AttentionSpotlight
{
    /// <summary>How much a key of weight 0 darkens the map under it.</summary>
    public const float Dim = 0.8f;

    /// <summary>Premultiplied RGBA bytes (black, with the opacity of the dimming) for <paramref name="weights"/> (one per
    /// key, row by row), 4 per key. No finite positive weight (a NaN logit makes every weight NaN): nothing dimmed; a
    /// weight that is not finite among finite ones: dimmed fully.</summary>
    public static void Fill(ReadOnlySpan<float> weights, Span<byte> rgba)
    {
        if (rgba.Length < 4 * weights.Length) throw new ArgumentException($"{weights.Length} weights need {4 * weights.Length} bytes, got {rgba.Length}");
        float max = 0;
        foreach (float w in weights)
            if (float.IsFinite(w)) max = Math.Max(max, w);
        for (int j = 0; j < weights.Length; j++)
        {
            float w = weights[j];
            float t = max <= 0 ? 1 : float.IsFinite(w) ? Math.Clamp(w / max, 0, 1) : 0;
            rgba[4 * j] = rgba[4 * j + 1] = rgba[4 * j + 2] = 0;
            rgba[4 * j + 3] = (byte)Math.Clamp((int)MathF.Round(255 * Dim * (1 - t)), 0, 255);
        }
    }
}
