// Border handling: what the padded input holds outside the image. The same formulas as
// Borders.Map in src/ConvGL.Core/Border.cs (names as NumPy's np.pad). The border is chosen at
// compile time with BORDER (injected #define), so only the branch a program needs exists.
#ifndef CONVGL_BORDER_GLSL
#define CONVGL_BORDER_GLSL

#define BORDER_ZERO 0
#define BORDER_REPLICATE 1
#define BORDER_REFLECT 2
#define BORDER_SYMMETRIC 3
#define BORDER_WRAP 4

#ifndef BORDER
#error BORDER must be defined (0 zero, 1 replicate, 2 reflect, 3 symmetric, 4 wrap)
#endif

// a mod n in [0, n) for any sign of a. GLSL leaves % undefined for negative operands, so the
// negative case is rewritten to use only non-negative ones: -1 -> n-1, -n -> 0.
int border_mod(int a, int n)
{
    return a >= 0 ? a % n : (n - 1) - ((-a - 1) % n);
}

// Maps coordinate i (possibly outside [0, n)) to the source index, or -1 for BORDER_ZERO outside.
// The reflections are periodic, so a pad wider than the image keeps reflecting, as np.pad does.
int border_map(int i, int n)
{
    if (uint(i) < uint(n)) return i;
#if BORDER == BORDER_ZERO
    return -1;
#elif BORDER == BORDER_REPLICATE
    return i < 0 ? 0 : n - 1;
#elif BORDER == BORDER_REFLECT
    if (n == 1) return 0;
    int period = 2 * (n - 1);
    int m = border_mod(i, period);
    return m < n ? m : period - m;
#elif BORDER == BORDER_SYMMETRIC
    int period = 2 * n;
    int m = border_mod(i, period);
    return m < n ? m : period - 1 - m;
#elif BORDER == BORDER_WRAP
    return border_mod(i, n);
#else
#error unknown BORDER value
#endif
}

// ---- Branch-free forms for the fast variants (conv2d_depthwise.comp, conv2d_dense.comp, separable_fast.comp) ----
// border_index(i, n) equals border_map(i, n) for every border but zero, where it clamps into the image and
// border_inside(i, n) says whether the tap is real (the caller selects 0.0 where it is not: a select, not a
// multiply, so a NaN in the image cannot leak into a zero-padded tap). No early return and no if: on SIMD CPUs
// (llvmpipe) both sides of a branch run, and on GPUs divergent lanes wait for each other.

// i mod n in [0, n) for any sign of i, without a branch. GLSL leaves / and % undefined for negative operands;
// with ~i = -i - 1 >= 0 for i < 0, floor(i / n) = ~(~i / n).
int border_floor_mod(int i, int n)
{
    int q = (i >= 0 ? i : ~i) / n;
    q = i >= 0 ? q : ~q;
    return i - q * n;
}

bool border_inside(int i, int n)
{
    return uint(i) < uint(n);
}

int border_index(int i, int n)
{
#if BORDER == BORDER_ZERO || BORDER == BORDER_REPLICATE
    return clamp(i, 0, n - 1);
#elif BORDER == BORDER_REFLECT
    // Period 2(n-1) (1 when n == 1: everything maps to 0); within a period, m or its mirror period - m.
    int period = max(2 * (n - 1), 1);
    int m = border_floor_mod(i, period);
    return min(m, period - m);
#elif BORDER == BORDER_SYMMETRIC
    int period = 2 * n;
    int m = border_floor_mod(i, period);
    return min(m, period - 1 - m);
#else
    return border_floor_mod(i, n);
#endif
}

#endif
