#version 430
#if UP2 && U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// Resize of every plane of a (P, H, W) tensor, the reference is Resize2D.Apply in src/ConvGL.Core/Ops/Resize2D.cs:
// output (x, y) reads the input at f(x), f(y) per COORDINATES (0 half_pixel, 1 pytorch_half_pixel, 2 align_corners,
// 3 asymmetric, 4 tf_half_pixel_for_nn); MODE 0 nearest (ROUNDING 0 round_prefer_floor, 1 round_prefer_ceil, 2 floor,
// 3 ceil; clamped into the map), MODE 1 linear (the two neighbours per axis, the edge repeated beyond the map), MODE 2
// cubic (four per axis, Keys' kernel with u_cubic_a; u_exclude: outside taps dropped and the weights renormalised; a
// whole-number coordinate reads its pixel alone, as ONNX's reference).
// Four consecutive outputs of a row per invocation ((x / 4, y, plane) from the invocation id: the row's source
// coordinate and taps computed once for the four), the input through an r32f texel view; with output rows a multiple
// of 4 wide (VEC4_STORES) one vec4 store, else four predicated ones (no early return). Coordinates are computed in
// double, as the reference: nearest's floor and rounding sit on exact boundaries (a scale of 0.6f puts output 1 at
// 1.99999990, which float arithmetic rounds to 2.0 and floors differently).
// Defines: MODE, COORDINATES, ROUNDING, VEC4_STORES.

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input; // (P, H, W) as r32f texels
#if UP2
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_input4; // the same memory as rgba32f texels
#endif
#if UP2 && U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4_STORES || UP2
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

uniform ivec2 u_in_size;  // (W, H)
uniform ivec2 u_out_size; // (W', H')
uniform dvec2 u_scale;    // (x, y): the given scales, or output / input for a fixed size
uniform float u_cubic_a;  // MODE 2
uniform int u_exclude;    // MODE 2: exclude_outside

double source(int o, int n, int outN, double scale)
{
#if COORDINATES == 0
    return (double(o) + 0.5LF) / scale - 0.5LF;
#elif COORDINATES == 1
    return outN > 1 ? (double(o) + 0.5LF) / scale - 0.5LF : 0.0LF;
#elif COORDINATES == 2
    // ONNX's resized length is n * scale, unfloored.
    double len = double(n) * scale;
    return len == 1.0LF ? 0.0LF : double(o * (n - 1)) / (len - 1.0LF);
#elif COORDINATES == 3
    return double(o) / scale;
#else
    return (double(o) + 0.5LF) / scale;
#endif
}

int nearest(double x, int n)
{
    double f = floor(x);
#if ROUNDING == 0
    double i = x - f == 0.5LF ? f : floor(x + 0.5LF);
#elif ROUNDING == 1
    double i = x - f == 0.5LF ? f + 1.0LF : floor(x + 0.5LF);
#elif ROUNDING == 2
    double i = f;
#else
    double i = ceil(x);
#endif
    return int(clamp(i, 0.0LF, double(n - 1)));
}

// MODE 2: the four taps (clamped into the map) and weights around x; at a whole x one tap (count 1), its pixel alone,
// as the reference: its other taps are not read at all, so an infinity beside it does not make 0 * inf = NaN.
void taps(double x, int n, out ivec4 index, out vec4 weight, out int count)
{
    double f = floor(x);
    int i0 = int(f);
    count = x == f ? 1 : 4;
    if (x == f)
    {
        index = ivec4(clamp(i0, 0, n - 1));
        weight = vec4(1.0, 0.0, 0.0, 0.0);
        return;
    }
    double t = x - f, a = double(u_cubic_a);
    dvec4 w = dvec4(((a * (t + 1.0LF) - 5.0LF * a) * (t + 1.0LF) + 8.0LF * a) * (t + 1.0LF) - 4.0LF * a,
                    ((a + 2.0LF) * t - (a + 3.0LF)) * t * t + 1.0LF,
                    ((a + 2.0LF) * (1.0LF - t) - (a + 3.0LF)) * (1.0LF - t) * (1.0LF - t) + 1.0LF,
                    ((a * (2.0LF - t) - 5.0LF * a) * (2.0LF - t) + 8.0LF * a) * (2.0LF - t) - 4.0LF * a);
    ivec4 raw = ivec4(i0 - 1, i0, i0 + 1, i0 + 2);
    if (u_exclude != 0)
    {
        bvec4 inside = bvec4(raw.x >= 0 && raw.x < n, raw.y >= 0 && raw.y < n, raw.z >= 0 && raw.z < n, raw.w >= 0 && raw.w < n);
        w = mix(dvec4(0.0LF), w, inside);
        w /= w.x + w.y + w.z + w.w;
    }
    index = clamp(raw, ivec4(0), ivec4(n - 1));
    weight = vec4(w);
}

float at(int plane, int y, int x)
{
    return imageLoad(u_input, (plane * u_in_size.y + y) * u_in_size.x + x).r;
}

// Output (x, y) of plane z, its row's source coordinate fy (and, MODE 2, the row's taps) already known.
#if MODE == 0
float value(int z, int x, int y_in)
{
    double fx = source(x, u_in_size.x, u_out_size.x, u_scale.x);
    return at(z, y_in, nearest(fx, u_in_size.x));
}
#elif MODE == 2
float value(int z, int x, ivec4 ys, vec4 wy, int ny)
{
    double fx = source(x, u_in_size.x, u_out_size.x, u_scale.x);
    ivec4 xs;
    vec4 wx;
    int nx;
    taps(fx, u_in_size.x, xs, wx, nx);
    float v = 0.0;
    for (int i = 0; i < ny; i++)
    {
        float row = 0.0;
        for (int j = 0; j < nx; j++) row += wx[j] * at(z, ys[i], xs[j]);
        v += wy[i] * row;
    }
    return v;
}
#else
float value(int z, int x, int ya, int yb, float wy)
{
    double fx = source(x, u_in_size.x, u_out_size.x, u_scale.x);
    double x0 = floor(fx);
    float wx = float(fx - x0);
    int xa = clamp(int(x0), 0, u_in_size.x - 1), xb = clamp(int(x0) + 1, 0, u_in_size.x - 1);
    float top = (1.0 - wx) * at(z, ya, xa) + wx * at(z, ya, xb);
    float bottom = (1.0 - wx) * at(z, yb, xa) + wx * at(z, yb, xb);
    return (1.0 - wy) * top + wy * bottom;
}
#endif

#if UP2
// Linear, half-pixel coordinates, exactly 2x along both axes, input rows of whole vec4s (GpuResize): 8 outputs of a row
// per invocation from input columns 4i - 1 .. 4i + 4 of two rows, 3 rgba32f texels a row instead of 32 single-value
// fetches. Output 2j + e of the block reads columns (4i + j - 1, 4i + j) with weight 0.75 on the second (e = 0) or
// (4i + j, 4i + j + 1) with 0.25 (e = 1), clamped at the row's ends: the same operands and the same expression as
// the linear value() above, so the same bits.
vec4 cols(int at, int i, int n4, out float before, out float after)
{
    vec4 t = imageLoad(u_input4, at + i);
    before = i > 0 ? imageLoad(u_input4, at + i - 1).w : t.x;
    after = i + 1 < n4 ? imageLoad(u_input4, at + i + 1).x : t.w;
    return t;
}

float lerp_x(float a, float b, float wx) { return (1.0 - wx) * a + wx * b; }

void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    int n4 = u_in_size.x / 4;
    bool inside = p.x < n4 && p.y < u_out_size.y;
    int i = min(p.x, n4 - 1), y = min(p.y, u_out_size.y - 1);
    double fy = source(y, u_in_size.y, u_out_size.y, u_scale.y);
    double y0 = floor(fy);
    float wy = float(fy - y0);
    int ya = clamp(int(y0), 0, u_in_size.y - 1), yb = clamp(int(y0) + 1, 0, u_in_size.y - 1);
    float a0, a5, b0, b5;
    vec4 a = cols((p.z * u_in_size.y + ya) * n4, i, n4, a0, a5);
    vec4 b = cols((p.z * u_in_size.y + yb) * n4, i, n4, b0, b5);
    float ta[8] = float[8](lerp_x(a0, a.x, 0.75), lerp_x(a.x, a.y, 0.25), lerp_x(a.x, a.y, 0.75), lerp_x(a.y, a.z, 0.25),
                           lerp_x(a.y, a.z, 0.75), lerp_x(a.z, a.w, 0.25), lerp_x(a.z, a.w, 0.75), lerp_x(a.w, a5, 0.25));
    float tb[8] = float[8](lerp_x(b0, b.x, 0.75), lerp_x(b.x, b.y, 0.25), lerp_x(b.x, b.y, 0.75), lerp_x(b.y, b.z, 0.25),
                           lerp_x(b.y, b.z, 0.75), lerp_x(b.z, b.w, 0.25), lerp_x(b.z, b.w, 0.75), lerp_x(b.w, b5, 0.25));
    float v[8];
    for (int e = 0; e < 8; e++) v[e] = (1.0 - wy) * ta[e] + wy * tb[e];
    int at = ((p.z * u_out_size.y + y) * u_out_size.x) / 8 + i;
#if U64_STORES
    if (inside) out_data8[at] = pack8(vec4(v[0], v[1], v[2], v[3]), vec4(v[4], v[5], v[6], v[7]));
#else
    if (inside)
    {
        out_data[2 * at] = vec4(v[0], v[1], v[2], v[3]);
        out_data[2 * at + 1] = vec4(v[4], v[5], v[6], v[7]);
    }
#endif
}
#else
void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    bool inside = 4 * p.x < u_out_size.x && p.y < u_out_size.y;
    // Outputs past the row's end (the last invocation of a row not a multiple of 4 wide) compute a clamped position
    // and are not stored.
    int x0 = 4 * p.x, last = u_out_size.x - 1, y = min(p.y, u_out_size.y - 1);
    double fy = source(y, u_in_size.y, u_out_size.y, u_scale.y);
#if MODE == 0
    int y_in = nearest(fy, u_in_size.y);
#define VALUE(x) value(p.z, min(x, last), y_in)
#elif MODE == 2
    ivec4 ys;
    vec4 wy;
    int ny;
    taps(fy, u_in_size.y, ys, wy, ny);
#define VALUE(x) value(p.z, min(x, last), ys, wy, ny)
#else
    double y0 = floor(fy);
    float wy = float(fy - y0);
    int ya = clamp(int(y0), 0, u_in_size.y - 1), yb = clamp(int(y0) + 1, 0, u_in_size.y - 1);
#define VALUE(x) value(p.z, min(x, last), ya, yb, wy)
#endif
    vec4 v = vec4(VALUE(x0), VALUE(x0 + 1), VALUE(x0 + 2), VALUE(x0 + 3));
    int row = (p.z * u_out_size.y + y) * u_out_size.x;
#if VEC4_STORES
    if (inside) out_data[(row + x0) / 4] = v;
#else
    if (inside) out_data[row + x0] = v.x;
    if (inside && x0 + 1 <= last) out_data[row + x0 + 1] = v.y;
    if (inside && x0 + 2 <= last) out_data[row + x0 + 2] = v.z;
    if (inside && x0 + 3 <= last) out_data[row + x0 + 3] = v.w;
#endif
}
#endif
