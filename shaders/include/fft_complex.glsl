// Complex arithmetic for the FFT shaders. A vec4 holds two complex numbers (x + iy, z + iw): the FFT frames
// carry four real tiles of the padded input per texel (see fft_pass.comp, PAD), two per complex value, and every
// operation below acts on both halves with the same factor.
#ifndef CONVGL_FFT_COMPLEX_GLSL
#define CONVGL_FFT_COMPLEX_GLSL

// Both halves of v times the complex number w.
vec4 cmul2(vec4 v, vec2 w)
{
    return vec4(v.x * w.x - v.y * w.y, v.x * w.y + v.y * w.x,
                v.z * w.x - v.w * w.y, v.z * w.y + v.w * w.x);
}

// Both halves of v times conj(w).
vec4 cmul2_conj(vec4 v, vec2 w)
{
    return vec4(v.x * w.x + v.y * w.y, v.y * w.x - v.x * w.y,
                v.z * w.x + v.w * w.y, v.w * w.x - v.z * w.y);
}

vec2 cmul(vec2 a, vec2 b) { return vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }

// Both halves times i (x + iy -> -y + ix).
vec4 times_i(vec4 v) { return vec4(-v.y, v.x, -v.w, v.z); }

#endif
