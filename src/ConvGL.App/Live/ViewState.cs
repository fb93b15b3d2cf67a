namespace ConvGL.App.Live;

/// <summary>What the controls change and the views read: the selected layer and channel, the view, the enlarged
/// grid map, the pinned probe, pause/help/info, and the two "something changed" flags the main loop acts on.
/// Plain values and arithmetic (no GL, no window), so the controls' effects are unit-tested.</summary>
internal sealed class ViewState
{
    public ViewKind View { get; set; }
    /// <summary>The layer [ ] select (0-based): the grid, probe and profile show it, and 0 toggles it.</summary>
    public int Layer { get; set; }
    /// <summary>The channel , . select (clamped to the layer's channel count where it is used).</summary>
    public int Channel { get; set; }
    /// <summary>The grid map enlarged by a click, or -1 for the whole grid.</summary>
    public int Enlarged { get; set; } = -1;
    public bool Paused { get; set; }
    public bool Help { get; set; }
    public bool InfoHidden { get; set; }
    /// <summary>A probe on an attention layer lays its weights over the map as a spotlight (key a hides and shows it).</summary>
    public bool Spotlight { get; set; } = true;
    /// <summary>The filters view shows the hand-made Gabor bank beside a learned first-layer bank (k, pressed in the
    /// filters view, hides and shows it).</summary>
    public bool DesignedBank { get; set; } = true;
    public bool Quit { get; set; }
    public bool ScreenshotRequested { get; set; }

    /// <summary>A pinned probe stays at (PinX, PinY) of map PinChannel whatever the mouse does.</summary>
    public bool Pinned { get; set; }
    public int PinX { get; set; }
    public int PinY { get; set; }
    public int PinChannel { get; set; }
    /// <summary>The pin is on the filters view's hand-made bank (<see cref="Views.ILiveView.DesignedProbe"/>), not on the
    /// shown layer's maps; it ends where that bank is no longer shown (LiveApp.UpdateProbe).</summary>
    public bool PinDesigned { get; set; }

    /// <summary>The pointer in window coordinates (-1 before it has moved).</summary>
    public double MouseX { get; set; } = -1;
    public double MouseY { get; set; } = -1;

    /// <summary>The pipeline must run again on the current frame (an option, layer or file changed).</summary>
    public bool Dirty { get; set; } = true;
    /// <summary>The HUD's text and the layout must be rebuilt.</summary>
    public bool HudDirty { get; set; } = true;

    /// <summary>Both: the picture and its description change.</summary>
    public void Changed()
    {
        Dirty = true;
        HudDirty = true;
    }

    public void SelectLayer(int delta, int layerCount)
    {
        Layer = Math.Clamp(Layer + delta, 0, Math.Max(0, layerCount - 1));
        Enlarged = -1;
        Changed();
    }

    /// <summary>Next/previous channel of a layer with <paramref name="channels"/> maps, wrapping around; a pinned
    /// probe follows it.</summary>
    public void SelectChannel(int delta, int channels)
    {
        int c = Math.Max(1, channels);
        // From the channel shown: one kept from a layer with more maps (12 on a layer of 8) is shown as the last.
        Channel = ((Math.Clamp(Channel, 0, c - 1) + delta) % c + c) % c;
        PinChannel = Channel;
        Changed();
    }

    /// <summary>After a new filter or stack: its <see cref="ILivePipeline.DefaultLayer"/>, channel 0, the whole grid.</summary>
    /// <summary>Another filter or stack: its default layer, channel 0, the grid whole. <paramref name="unpin"/>: a pin is
    /// a map coordinate, which names another place on another stack's maps (a window review: pinned on attention's sun at
    /// (35, 5), `s` to deep left it on (35, 5) of a 4x-pooled map, in the sky); between two filters (maps of the source's
    /// size) it stays, so `f` compares kernels at one pixel.</summary>
    public void NewPipeline(int layer, bool unpin = false)
    {
        Layer = layer;
        Channel = 0;
        Enlarged = -1;
        if (unpin) Pinned = false;
        Changed();
    }

    /// <summary>After a hot reload: a selected layer past the reloaded pipeline's <paramref name="layerCount"/> becomes
    /// <paramref name="fallback"/> (its default layer); a selection that still exists stays.</summary>
    public void KeepWithin(int layerCount, int fallback)
    {
        if (Layer < layerCount) return;
        Layer = fallback;
        Enlarged = -1;
        Changed();
    }

    public void SetView(ViewKind view)
    {
        // k in the filters view: the hand-made bank beside a learned one, hidden or shown.
        if (view == ViewKind.Filters && View == ViewKind.Filters)
        {
            DesignedBank = !DesignedBank;
            Changed();
            return;
        }
        View = view;
        Enlarged = -1;
        Changed();
    }

    /// <summary>Tab / Shift+Tab: the views in the order of <see cref="ViewKind"/>, wrapping around.</summary>
    public void CycleView(int delta)
    {
        int n = Enum.GetValues<ViewKind>().Length;
        SetView((ViewKind)((((int)View + delta) % n + n) % n));
    }

    public void Pin(int x, int y, int channel, bool designed = false)
    {
        (PinX, PinY, PinChannel, PinDesigned) = (x, y, channel, designed);
        Pinned = true;
    }

    public void MouseMoved(double x, double y)
    {
        (MouseX, MouseY) = (x, y);
        // A pinned probe ignores the pointer, so the HUD need not change.
        if (!Pinned) HudDirty = true;
    }

    public void TogglePause()
    {
        Paused = !Paused;
        HudDirty = true;
    }

    public void ToggleInfo()
    {
        InfoHidden = !InfoHidden;
        HudDirty = true;
    }

    public void ToggleSpotlight()
    {
        Spotlight = !Spotlight;
        HudDirty = true;
    }

    public void ToggleHelp()
    {
        Help = !Help;
        HudDirty = true;
    }
}
