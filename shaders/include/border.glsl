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

#endif
