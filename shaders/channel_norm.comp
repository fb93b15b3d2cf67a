#version 430
// Layer normalisation over the channels at each pixel of a (C, H, W) map (the stack's layernorm layer, PyTorch's
// LayerNorm2d); the reference is ChannelLayerNormLayer.Forward (LayerNorm.Apply on the (H, W, C) view): the pixel's C
// values' mean, then their variance about it (two passes, as the reference; both measured from the first channel's
// value), then y = scale[c] (x - mean) /
// sqrt(var + epsilon) + shift[c]. One pixel per invocation, the map through an r32f texel view, the parameters (C
// scales then C shifts) through another; the load index clamped and the stores predicated.

// VEC4 (planes of a multiple of 4 pixels): 4 neighbouring pixels per invocation, each channel's 4 values one rgba32f
// texel and one vec4 store (on llvmpipe a per-lane store is a loop over the SIMD lanes, a gather a load per lane: a
// quarter of each); the same arithmetic, per component.

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#if VEC4
#define T vec4
#define IT ivec4
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input; // (C, H, W) as rgba32f texels
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#define FETCH(i) imageLoad(u_input, i)
#else
#define T float
#define IT int
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;  // (C, H, W) as r32f texels
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#define FETCH(i) imageLoad(u_input, i).r
#endif
layout(r32f, binding = 2) readonly uniform imageBuffer u_params; // scale[C], shift[C]

uniform int u_channels;
uniform int u_plane;   // H * W (VEC4: in texels, H * W / 4)
uniform float u_epsilon;
uniform int u_row;     // invocations per dispatch row (see GlProgram.DispatchFlat)

void main()
{
    int k = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    int p = min(k, u_plane - 1);
    // Values measured from the pixel's first channel (x - x0 is exact for nearby values), so a map far from zero keeps
    // its small deviations: the mean is x0 + shift, and x - mean is (x - x0) - shift.
    // The deviations are summed squared in units of 2^e above the largest |x - x0| (|x - mean| <= 2 max |x - x0|; exact:
    // ldexp): squares of values past 1.8e19 overflow float, where the reference's doubles do not (the GPU fuzz test's
    // finding: a map of 8.8e20 came out as the shift alone); var + epsilon = 4^e (var / 4^e + epsilon / 4^e).
    T x0 = FETCH(p);
    T shift = T(0.0), s = T(0.0);
    for (int c = 0; c < u_channels; c++)
    {
        T d0 = FETCH(c * u_plane + p) - x0;
        shift += d0;
        s = max(s, abs(d0));
    }
    shift /= float(u_channels);
    IT e;
    frexp(max(s, T(1e-30)), e);
    e = clamp(e, IT(-100), IT(100));
    T unit = ldexp(T(1.0), -e); // a power of two: multiplying by it is exact, and one multiply per value
    T var = T(0.0);
    for (int c = 0; c < u_channels; c++)
    {
        T d = ((FETCH(c * u_plane + p) - x0) - shift) * unit;
        var += d * d;
    }
    T inv = ldexp(1.0 / sqrt(var / float(u_channels) + ldexp(T(u_epsilon), -2 * e)), -e);
    for (int c = 0; c < u_channels; c++)
    {
        T d = (FETCH(c * u_plane + p) - x0) - shift;
        T y = imageLoad(u_params, c).r * (d * inv) + imageLoad(u_params, u_channels + c).r;
        if (k < u_plane) out_data[c * u_plane + p] = y;
    }
}
