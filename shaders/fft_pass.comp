#version 430
// One pass of a batched mixed-radix Stockham FFT (the autosort formulation of Govindaraju et al., "High
// performance discrete Fourier transforms on graphics processors", SC 2008): for a length-N transform done as
// passes of radix R1, R2, ... with Ns = the product of the radices before this pass, butterfly j (0 <= j < N/R)
//   v[r] = src[j + r*N/R] * w^(k*r),  k = j mod Ns,  w = exp(s*2*pi*i / (Ns*R))     (r = 0..R-1)
//   v = DFT_R(v)
//   dst[(j / Ns) * Ns * R + k + r*Ns] = v[r]
// leaves the output in natural order after the last pass, for any mix of radices (checked in NumPy first).
// s = -1 forward, +1 inverse (no 1/N here; fft_multiply.comp folds it in).
//
// The data are FFT frames (F_h, F_w) of vec4 texels, two complex values each (fft_complex.glsl), frames back to
// back, read and written through imageBuffer views: on llvmpipe image loads are vector gathers while SSBO loads
// with per-invocation addresses are scalar loops (shared/PERF-NOTES.md). Each invocation does one radix-R
// butterfly, so it moves R texels = 2R complex values.
// Defines: RADIX (2, 3, 4, 5, 8, 16), INVERSE (0/1), COLUMNS (0: transform along x, 1: along y).
// Twiddles come from a table tw[q] = exp(-2 pi i q / N) computed in double on the CPU; this pass needs the
// powers w^(k r) = tw[k r N/(Ns R)] for r = 1..R-1: the first is read, the rest are products of it (at most
// 7 float multiplications deep, well under the tolerance the parity tests state).

#include "include/fft_complex.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_src;
layout(rgba32f, binding = 1) writeonly uniform imageBuffer u_dst;
layout(rg32f, binding = 2) readonly uniform imageBuffer u_twiddles;

uniform ivec2 u_frame;  // (F_h, F_w)
uniform int u_quarter;       // N / RADIX: butterflies per transform
uniform int u_ns;            // product of the radices of the passes before this one
uniform float u_inv_ns;      // 1 / u_ns
uniform int u_twiddle_step;  // N / (u_ns * RADIX): the table index of w
uniform int u_frames;        // number of frames
// No integer division per invocation: llvmpipe has no vector integer divide and runs one per lane. The shape
// quotients are uniforms, and j / Ns is taken in float: (j + 0.5) / Ns is at least 0.5/Ns from an integer, far
// more than float's rounding for j < 2^22.

#if INVERSE
#define SIGN 1.0
#else
#define SIGN -1.0
#endif

vec4 rot(vec4 v) { return SIGN * times_i(v); } // v * (s i)

// In-place 4-point DFT of a, b, c, d (the radix-4 butterfly).
void dft4(inout vec4 a, inout vec4 b, inout vec4 c, inout vec4 d)
{
    vec4 t0 = a + c, t1 = a - c, t2 = b + d, t3 = rot(b - d);
    a = t0 + t2; b = t1 + t3; c = t0 - t2; d = t1 - t3;
}

// v * exp(s i 2 pi m / 16) for a constant m.
vec4 w16(vec4 v, float c, float s) { return c * v + (SIGN * s) * times_i(v); }

void main()
{
#if COLUMNS
    // x: column within the frame (adjacent invocations read adjacent texels), y: butterfly, z: frame.
    int x = int(gl_GlobalInvocationID.x), j = int(gl_GlobalInvocationID.y), f = int(gl_GlobalInvocationID.z);
    if (x >= u_frame.y || j >= u_quarter || f >= u_frames) return;
    int base = f * u_frame.x * u_frame.y + x;
    int step = u_frame.y;
#else
    // x: butterfly, y: row, z: frame.
    int j = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y), f = int(gl_GlobalInvocationID.z);
    if (j >= u_quarter || y >= u_frame.x || f >= u_frames) return;
    int base = (f * u_frame.x + y) * u_frame.y;
    int step = 1;
#endif
    int quarter = u_quarter;
    int group = int((float(j) + 0.5) * u_inv_ns);
    int k = j - group * u_ns;
    vec4 v[RADIX];
    for (int r = 0; r < RADIX; r++) v[r] = imageLoad(u_src, base + (j + r * quarter) * step);

    vec2 w1 = imageLoad(u_twiddles, k * u_twiddle_step).xy;
    w1.y *= -SIGN; // the table holds the forward twiddles exp(-i...): conjugate for the inverse
    vec2 w = w1;
    for (int r = 1; r < RADIX; r++)
    {
        v[r] = cmul2(v[r], w);
        w = cmul(w, w1);
    }

#if RADIX == 2
    vec4 y0 = v[0] + v[1], y1 = v[0] - v[1];
    v[0] = y0; v[1] = y1;
#elif RADIX == 3
    const float s3 = 0.86602540378443864676; // sin(2 pi / 3)
    vec4 t1 = v[1] + v[2], t2 = v[1] - v[2];
    vec4 m = v[0] - 0.5 * t1, n = s3 * rot(t2);
    v[0] = v[0] + t1; v[1] = m + n; v[2] = m - n;
#elif RADIX == 4
    dft4(v[0], v[1], v[2], v[3]);
#elif RADIX == 5
    const float c1 = 0.30901699437494742410, c2 = -0.80901699437494742410; // cos(2 pi/5), cos(4 pi/5)
    const float s1 = 0.95105651629515357212, s2 = 0.58778525229247312917; // sin(2 pi/5), sin(4 pi/5)
    vec4 t1 = v[1] + v[4], t2 = v[2] + v[3], t3 = v[1] - v[4], t4 = v[2] - v[3];
    vec4 m1 = v[0] + c1 * t1 + c2 * t2, m2 = v[0] + c2 * t1 + c1 * t2;
    vec4 n1 = rot(s1 * t3 + s2 * t4), n2 = rot(s2 * t3 - s1 * t4);
    v[0] = v[0] + t1 + t2; v[1] = m1 + n1; v[4] = m1 - n1; v[2] = m2 + n2; v[3] = m2 - n2;
#elif RADIX == 8
    // Two radix-4 DFTs of the even and odd entries, joined by the eighth roots of unity.
    const float h = 0.70710678118654752440;
    vec4 a0 = v[0] + v[4], a1 = v[0] - v[4], a2 = v[2] + v[6], a3 = rot(v[2] - v[6]);
    vec4 e0 = a0 + a2, e1 = a1 + a3, e2 = a0 - a2, e3 = a1 - a3;
    vec4 b0 = v[1] + v[5], b1 = v[1] - v[5], b2 = v[3] + v[7], b3 = rot(v[3] - v[7]);
    vec4 o0 = b0 + b2, o1 = b1 + b3, o2 = b0 - b2, o3 = b1 - b3;
    o1 = h * (o1 + rot(o1));   // * exp(s i pi/4)
    o2 = rot(o2);              // * exp(s i pi/2)
    o3 = h * (rot(o3) - o3);   // * exp(s i 3pi/4)
    v[0] = e0 + o0; v[4] = e0 - o0;
    v[1] = e1 + o1; v[5] = e1 - o1;
    v[2] = e2 + o2; v[6] = e2 - o2;
    v[3] = e3 + o3; v[7] = e3 - o3;
#elif RADIX == 16
    // 16 = 4 x 4: DFT4 over n1 of x[4 n1 + n2] for each n2, twiddle by W16^(n2 k1), DFT4 over n2 for each k1;
    // X[k1 + 4 k2] ends in v[4 k1 + k2] (transposed), so it is stored through the permutation below.
    dft4(v[0], v[4], v[8], v[12]);
    dft4(v[1], v[5], v[9], v[13]);
    dft4(v[2], v[6], v[10], v[14]);
    dft4(v[3], v[7], v[11], v[15]);
    const float c1 = 0.92387953251128675613, s1 = 0.38268343236508977173; // cos, sin(2 pi / 16)
    const float h = 0.70710678118654752440;
    v[5] = w16(v[5], c1, s1);   v[9] = w16(v[9], h, h);     v[13] = w16(v[13], s1, c1);    // n2 = 1: m = 1, 2, 3
    v[6] = w16(v[6], h, h);     v[10] = rot(v[10]);          v[14] = w16(v[14], -h, h);     // n2 = 2: m = 2, 4, 6
    v[7] = w16(v[7], s1, c1);   v[11] = w16(v[11], -h, h);   v[15] = w16(v[15], -c1, -s1);  // n2 = 3: m = 3, 6, 9
    dft4(v[0], v[1], v[2], v[3]);
    dft4(v[4], v[5], v[6], v[7]);
    dft4(v[8], v[9], v[10], v[11]);
    dft4(v[12], v[13], v[14], v[15]);
#else
#error RADIX must be 2, 3, 4, 5, 8 or 16
#endif

    int d = group * u_ns * RADIX + k;
#if RADIX == 16
    for (int r = 0; r < 16; r++) imageStore(u_dst, base + (d + r * u_ns) * step, v[(r & 3) * 4 + (r >> 2)]);
#else
    for (int r = 0; r < RADIX; r++) imageStore(u_dst, base + (d + r * u_ns) * step, v[r]);
#endif
}
