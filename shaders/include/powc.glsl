// C's pow on one value (Math.Pow on the CPU): x^0 = 1 and 1^y = 1 (even for NaN), a NaN elsewhere is NaN, 0^y is 0 for
// y > 0 and +inf for y < 0, a negative base takes whole exponents only (sign by parity), |x|^y otherwise. GLSL leaves
// pow undefined for a base <= 0, so those cases are written out.
#include "nonfinite.glsl"

float powc(float x, float y)
{
    if (y == 0.0 || x == 1.0) return 1.0;
    if (isnan(x) || isnan(y)) return x + y;
    if (x == 0.0) return y > 0.0 ? 0.0 : INF_F;
    float p = pow(abs(x), y);
    if (x > 0.0) return p;
    if (floor(y) != y) return NAN_F;
    return mod(y, 2.0) == 1.0 ? -p : p;
}
