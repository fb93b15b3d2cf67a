namespace ConvGL.Gpu;

internal static class GpuAssembly;
