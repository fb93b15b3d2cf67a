namespace ConvGL.App;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("convgl: not built yet");
        return 1;
    }
}
