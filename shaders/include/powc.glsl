// C's pow on one value (Math.Pow on the CPU; C99 Annex F / IEEE 754): x^0 = 1 and 1^y = 1 (even for NaN), a NaN elsewhere
// is NaN; an infinite exponent gives 1 for |x| = 1, else +inf or +0 as |x| > 1 and y > 0 agree or not; a zero or infinite
// base gives +inf or +0 as it is zero and y < 0 agree or not, negative when the base is negative (-0, -inf) and y an odd
// integer; a finite negative base takes integer exponents only (sign by parity), |x|^y otherwise. GLSL leaves pow
// undefined for a base <= 0, so those cases are written out.
#include "nonfinite.glsl"

float powc(float x, float y)
{
    if (y == 0.0 || x == 1.0) return 1.0;
    if (isnan(x) || isnan(y)) return x + y;
    float a = abs(x);
    if (isinf(y)) return a == 1.0 ? 1.0 : (a > 1.0) == (y > 0.0) ? INF_F : 0.0;
    bool whole = floor(y) == y;
    // Floats of 2^24 and up are all even; mod is exact below.
    bool odd = whole && abs(y) < 16777216.0 && mod(y, 2.0) == 1.0;
    bool negative = (floatBitsToUint(x) & 0x80000000u) != 0u;
    if (a == 0.0 || isinf(a))
    {
        float r = (a == 0.0) == (y < 0.0) ? INF_F : 0.0;
        return negative && odd ? -r : r;
    }
    float p = pow(a, y);
    if (!negative) return p;
    if (!whole) return NAN_F;
    return odd ? -p : p;
}
