using ConvGL.App.Live;

namespace ConvGL.App.Tests;

/// <summary>The info panel of a stack with more layers than the column holds (ResNet18's 52): only the layers around
/// the selected one are listed, the others counted above and below; the lines before and after the layers stay.</summary>
public sealed class InfoPanelTests
{
    private static List<string> Info(int layers, int selected)
    {
        var lines = new List<string> { "ConvGL  3.1 fps", "source: scene 640x360", "stack resnet18" };
        // Numbers right-aligned in the widest one's places, as AddInfoLines writes them.
        for (int i = 0; i < layers; i++) lines.Add(HudText.LayerLine(i, i == selected, true, $"layer{i}", 0, layers.ToString().Length));
        lines.Add("layer 1: output (64, 112, 112), channel 0 Convolution28");
        return lines;
    }

    // A layer line's label: what follows "[x] ".
    private static string Label(string line) => line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..];

    [Fact]
    public void LayerLines_AreRecognised_AndNothingElse()
    {
        List<string> lines = Info(12, 3);
        Assert.Equal(12, lines.Count(HudText.IsLayerLine));
        Assert.True(HudText.IsLayerLine(HudText.LayerLine(9, false, false, "x", 0)));
        Assert.True(HudText.IsLayerLine(HudText.LayerLine(0, true, false, "x", 1.5)));
        Assert.False(HudText.IsLayerLine("layer 1: output (64, 112, 112)"));
        Assert.False(HudText.IsLayerLine("  [x] a wrapped continuation"));
    }

    [Fact]
    public void ElideLayers_KeepsTheSelectedOneInTheMiddle_AndCountsTheRest()
    {
        List<string> lines = HudText.ElideLayers(Info(52, 20), 5);
        Assert.Equal(3 + 1 + 5 + 1 + 1, lines.Count);
        Assert.Equal(["ConvGL  3.1 fps", "source: scene 640x360", "stack resnet18", "   ... 18 layer(s) above ([ ] select)"], lines[..4]);
        Assert.Equal(["layer18", "layer19", "layer20", "layer21", "layer22"], lines[4..9].Select(Label));
        Assert.StartsWith(">", lines[6], StringComparison.Ordinal);
        Assert.Equal("   ... 29 layer(s) below", lines[9]);
        Assert.StartsWith("layer 1: output", lines[10], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0, 5, 47)]   // the first layer: nothing above
    [InlineData(51, 47, 52, 0)] // the last: nothing below
    public void ElideLayers_AtTheEnds_ShowsAFullWindow(int selected, int from, int to, int below)
    {
        List<string> lines = HudText.ElideLayers(Info(52, selected), 5);
        string[] shown = lines.Where(HudText.IsLayerLine).Select(Label).ToArray();
        Assert.Equal(Enumerable.Range(from, to - from).Select(i => $"layer{i}"), shown);
        Assert.Equal(selected > 0, lines.Any(l => l.Contains("above", StringComparison.Ordinal)));
        Assert.Equal(below > 0, lines.Any(l => l.Contains($"{below} layer(s) below", StringComparison.Ordinal)));
    }

    [Fact]
    public void ElideLayers_WhenAllFit_ChangesNothing()
    {
        List<string> lines = Info(6, 2);
        Assert.Equal(lines, HudText.ElideLayers(lines, 6));
    }
}
