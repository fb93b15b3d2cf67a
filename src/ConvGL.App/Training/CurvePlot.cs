using System.Globalization;
using ConvGL.Core.Learning;
using SkiaSharp;

namespace ConvGL.App.Training;

/// <summary>The loss/accuracy curve of a training run as a PNG: two panels side by side, cross-entropy (training
/// loss averaged over each epoch, held-out loss at its end) and held-out accuracy with the 10% chance line.
/// Epoch 0 is the untrained network. Drawn with SkiaSharp (it renders text here).</summary>
internal static class CurvePlot
{
    private const int PanelWidth = 460, Height = 340, Margin = 48;

    private static readonly SKColor TrainColor = new(31, 119, 180), TestColor = new(255, 127, 14), AccuracyColor = new(44, 160, 44);

    /// <summary>The PNG file's bytes (train writes them together with the weights and the stack file).</summary>
    public static byte[] Encode(TrainResult result, string title)
    {
        var epochs = new List<double> { 0 };
        var trainLoss = new List<double> { double.NaN };
        var testLoss = new List<double> { result.InitialTestLoss };
        var accuracy = new List<double> { result.InitialTestAccuracy * 100 };
        foreach (EpochStats e in result.History)
        {
            epochs.Add(e.Epoch);
            trainLoss.Add(e.TrainLoss);
            testLoss.Add(e.TestLoss);
            accuracy.Add(e.TestAccuracy * 100);
        }

        using var bitmap = new SKBitmap(2 * PanelWidth, Height + 30 + 26);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using SKTypeface face = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var font = new SKFont(face, 13);
        using var titleFont = new SKFont(face, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, PanelWidth, 20, SKTextAlign.Center, titleFont, ink);
        canvas.Translate(0, 30);

        double maxLoss = testLoss.Concat(trainLoss).Where(double.IsFinite).DefaultIfEmpty(1).Max();
        var lossPanel = new Panel(0, 0, Math.Max(1, epochs[^1]), 0, Math.Ceiling(maxLoss * 2) / 2);
        lossPanel.Axes(canvas, font, ink, "epoch", "cross-entropy");
        lossPanel.Line(canvas, epochs, trainLoss, TrainColor);
        lossPanel.Line(canvas, epochs, testLoss, TestColor);
        lossPanel.Legend(canvas, font, [("training (epoch mean)", TrainColor), ("held-out", TestColor)]);

        var accPanel = new Panel(PanelWidth, 0, Math.Max(1, epochs[^1]), 0, 100);
        accPanel.Axes(canvas, font, ink, "epoch", "held-out accuracy %");
        using (var dashed = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke, PathEffect = SKPathEffect.CreateDash([6, 4], 0) })
            canvas.DrawLine(accPanel.X(0), accPanel.Y(10), accPanel.X(epochs[^1]), accPanel.Y(10), dashed);
        accPanel.Line(canvas, epochs, accuracy, AccuracyColor);
        accPanel.Legend(canvas, font, [($"held-out accuracy (final {accuracy[^1]:F1}%)", AccuracyColor), ("chance (10%)", SKColors.Gray)]);

        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>One plot area: data ranges mapped into a panel of the canvas.</summary>
    private sealed record Panel(float Left, float Top, double XMax, double YMin, double YMax)
    {
        private float PlotLeft => Left + Margin + 8;
        private float PlotRight => Left + PanelWidth - 16;
        private float PlotTop => Top + 12;
        private float PlotBottom => Top + Height - Margin;

        public float X(double x) => (float)(PlotLeft + (PlotRight - PlotLeft) * x / XMax);
        public float Y(double y) => (float)(PlotBottom - (PlotBottom - PlotTop) * (y - YMin) / (YMax - YMin));

        public void Axes(SKCanvas c, SKFont font, SKPaint ink, string xLabel, string yLabel)
        {
            using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
            using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, IsAntialias = true };
            int xStep = Math.Max(1, (int)Math.Ceiling(XMax / 10));
            for (int e = 0; e <= XMax; e += xStep)
            {
                c.DrawLine(X(e), PlotTop, X(e), PlotBottom, grid);
                c.DrawText(e.ToString(CultureInfo.InvariantCulture), X(e), PlotBottom + 16, SKTextAlign.Center, font, ink);
            }
            for (int k = 0; k <= 5; k++)
            {
                double v = YMin + (YMax - YMin) * k / 5;
                c.DrawLine(PlotLeft, Y(v), PlotRight, Y(v), grid);
                c.DrawText(v.ToString(YMax >= 10 ? "F0" : "F1", CultureInfo.InvariantCulture), PlotLeft - 6, Y(v) + 4, SKTextAlign.Right, font, ink);
            }
            c.DrawLine(PlotLeft, PlotBottom, PlotRight, PlotBottom, axis);
            c.DrawLine(PlotLeft, PlotTop, PlotLeft, PlotBottom, axis);
            c.DrawText(xLabel, (PlotLeft + PlotRight) / 2, PlotBottom + 34, SKTextAlign.Center, font, ink);
            c.Save();
            c.RotateDegrees(-90, Left + 14, (PlotTop + PlotBottom) / 2);
            c.DrawText(yLabel, Left + 14, (PlotTop + PlotBottom) / 2, SKTextAlign.Center, font, ink);
            c.Restore();
        }

        public void Line(SKCanvas c, IReadOnlyList<double> xs, IReadOnlyList<double> ys, SKColor color)
        {
            using var stroke = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var dot = new SKPaint { Color = color, IsAntialias = true };
            SKPoint? previous = null;
            for (int i = 0; i < xs.Count; i++)
            {
                if (!double.IsFinite(ys[i])) continue;
                SKPoint p = new(X(xs[i]), Y(ys[i]));
                if (previous is SKPoint q) c.DrawLine(q, p, stroke);
                c.DrawCircle(p, 3, dot);
                previous = p;
            }
        }

        /// <summary>One row of entries under the panel, clear of the curves.</summary>
        public void Legend(SKCanvas c, SKFont font, IReadOnlyList<(string Text, SKColor Color)> entries)
        {
            float x = PlotLeft, y = PlotBottom + 58;
            foreach ((string text, SKColor color) in entries)
            {
                using var swatch = new SKPaint { Color = color, StrokeWidth = 3 };
                using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
                c.DrawLine(x, y - 4, x + 20, y - 4, swatch);
                c.DrawText(text, x + 26, y, SKTextAlign.Left, font, ink);
                x += 26 + font.MeasureText(text) + 18;
            }
        }
    }
}
