// The radix-RADIX butterfly of the FFT shaders: an in-place DFT of v[0..RADIX-1] (two complex values per vec4, see
// fft_complex.glsl), X[m] = sum_r v[r] exp(s 2 pi i r m / RADIX), left in natural order in v. s = -1 forward,
// +1 inverse (no 1/N). The sign is an argument, not a define, so one shader can run a forward and an inverse
// butterfly (fft_product.comp); it is a constant at every call, so the compiler folds it.
// RADIX 1 is the identity (a transform of length 1), so a frame side of 1 still gets its fused pad/unpack pass.
#ifndef CONVGL_FFT_RADIX_GLSL
#define CONVGL_FFT_RADIX_GLSL

#include "fft_complex.glsl"

vec4 fft_rot(vec4 v, float s) { return s * times_i(v); } // v * (s i)

// In-place 4-point DFT of a, b, c, d.
void fft_dft4(inout vec4 a, inout vec4 b, inout vec4 c, inout vec4 d, float s)
{
    vec4 t0 = a + c, t1 = a - c, t2 = b + d, t3 = fft_rot(b - d, s);
    a = t0 + t2; b = t1 + t3; c = t0 - t2; d = t1 - t3;
}

// v * exp(s i 2 pi m / 16) for constants cos = c, sin = sn of 2 pi m / 16.
vec4 fft_w16(vec4 v, float c, float sn, float s) { return c * v + (s * sn) * times_i(v); }

void fft_dft(inout vec4 v[RADIX], float s)
{
#if RADIX == 1
#elif RADIX == 2
    vec4 y0 = v[0] + v[1], y1 = v[0] - v[1];
    v[0] = y0; v[1] = y1;
#elif RADIX == 3
    const float s3 = 0.86602540378443864676; // sin(2 pi / 3)
    vec4 t1 = v[1] + v[2], t2 = v[1] - v[2];
    vec4 m = v[0] - 0.5 * t1, n = s3 * fft_rot(t2, s);
    v[0] = v[0] + t1; v[1] = m + n; v[2] = m - n;
#elif RADIX == 4
    fft_dft4(v[0], v[1], v[2], v[3], s);
#elif RADIX == 5
    const float c1 = 0.30901699437494742410, c2 = -0.80901699437494742410; // cos(2 pi/5), cos(4 pi/5)
    const float s1 = 0.95105651629515357212, s2 = 0.58778525229247312917; // sin(2 pi/5), sin(4 pi/5)
    vec4 t1 = v[1] + v[4], t2 = v[2] + v[3], t3 = v[1] - v[4], t4 = v[2] - v[3];
    vec4 m1 = v[0] + c1 * t1 + c2 * t2, m2 = v[0] + c2 * t1 + c1 * t2;
    vec4 n1 = fft_rot(s1 * t3 + s2 * t4, s), n2 = fft_rot(s2 * t3 - s1 * t4, s);
    v[0] = v[0] + t1 + t2; v[1] = m1 + n1; v[4] = m1 - n1; v[2] = m2 + n2; v[3] = m2 - n2;
#elif RADIX == 8
    // Two radix-4 DFTs of the even and odd entries, joined by the eighth roots of unity.
    const float h = 0.70710678118654752440;
    vec4 a0 = v[0] + v[4], a1 = v[0] - v[4], a2 = v[2] + v[6], a3 = fft_rot(v[2] - v[6], s);
    vec4 e0 = a0 + a2, e1 = a1 + a3, e2 = a0 - a2, e3 = a1 - a3;
    vec4 b0 = v[1] + v[5], b1 = v[1] - v[5], b2 = v[3] + v[7], b3 = fft_rot(v[3] - v[7], s);
    vec4 o0 = b0 + b2, o1 = b1 + b3, o2 = b0 - b2, o3 = b1 - b3;
    o1 = h * (o1 + fft_rot(o1, s));   // * exp(s i pi/4)
    o2 = fft_rot(o2, s);              // * exp(s i pi/2)
    o3 = h * (fft_rot(o3, s) - o3);   // * exp(s i 3pi/4)
    v[0] = e0 + o0; v[4] = e0 - o0;
    v[1] = e1 + o1; v[5] = e1 - o1;
    v[2] = e2 + o2; v[6] = e2 - o2;
    v[3] = e3 + o3; v[7] = e3 - o3;
#elif RADIX == 16
    // 16 = 4 x 4: DFT4 over n1 of x[4 n1 + n2] for each n2, twiddle by W16^(n2 k1), DFT4 over n2 for each k1;
    // X[k1 + 4 k2] ends in v[4 k1 + k2] (transposed) and is put back in natural order at the end.
    fft_dft4(v[0], v[4], v[8], v[12], s);
    fft_dft4(v[1], v[5], v[9], v[13], s);
    fft_dft4(v[2], v[6], v[10], v[14], s);
    fft_dft4(v[3], v[7], v[11], v[15], s);
    const float c1 = 0.92387953251128675613, s1 = 0.38268343236508977173; // cos, sin(2 pi / 16)
    const float h = 0.70710678118654752440;
    v[5] = fft_w16(v[5], c1, s1, s);   v[9] = fft_w16(v[9], h, h, s);     v[13] = fft_w16(v[13], s1, c1, s);    // n2 = 1: m = 1, 2, 3
    v[6] = fft_w16(v[6], h, h, s);     v[10] = fft_rot(v[10], s);          v[14] = fft_w16(v[14], -h, h, s);     // n2 = 2: m = 2, 4, 6
    v[7] = fft_w16(v[7], s1, c1, s);   v[11] = fft_w16(v[11], -h, h, s);   v[15] = fft_w16(v[15], -c1, -s1, s);  // n2 = 3: m = 3, 6, 9
    fft_dft4(v[0], v[1], v[2], v[3], s);
    fft_dft4(v[4], v[5], v[6], v[7], s);
    fft_dft4(v[8], v[9], v[10], v[11], s);
    fft_dft4(v[12], v[13], v[14], v[15], s);
    vec4 t[16] = v;
    for (int r = 0; r < 16; r++) v[r] = t[(r & 3) * 4 + (r >> 2)];
#else
#error RADIX must be 1, 2, 3, 4, 5, 8 or 16
#endif
}

// Multiplies v[r] by w^r for r = 1..RADIX-1, w = the twiddle read from the table (at most 15 float products deep:
// well inside the tolerance the parity tests state).
void fft_twiddle(inout vec4 v[RADIX], vec2 w1)
{
    vec2 w = w1;
    for (int r = 1; r < RADIX; r++)
    {
        v[r] = cmul2(v[r], w);
        w = cmul(w, w1);
    }
}

#endif
