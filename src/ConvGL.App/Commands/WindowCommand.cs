using ConvGL.App.Cli;
using ConvGL.App.Glfw;
using ConvGL.App.Sources;
using Silk.NET.OpenGL;

namespace ConvGL.App.Commands;

internal static class WindowCommand
{
    public static readonly CommandSpec Spec = new("convgl", [], ["source", "stack", "view", "layer", "frames", "screenshot"], []);

    public static int Run(CommandLine args)
    {
        using IFrameSource source = SourceFactory.Open(args.Get("source", "scene"), synchronous: true);
        using var window = GlfwWindow.Create(320, 240, "convgl");
        GL gl = GL.GetApi(window.GetProcAddress);
        Console.WriteLine(gl.GetStringS(StringName.Version) + " " + gl.GetStringS(StringName.Renderer));
        for (int i = 0; i < 10; i++)
        {
            byte[]? f = source.TakeFrame(i / 30.0);
            Console.WriteLine($"frame {i} {f?.Length} {source.Width}x{source.Height}");
            gl.ClearColor(0.2f, 0.3f, 0.4f, 1);
            gl.Clear(ClearBufferMask.ColorBufferBit);
            window.SwapBuffers();
            window.DoEvents();
        }
        return 0;
    }
}
