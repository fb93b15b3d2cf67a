// A tap compiled in as a literal (ConvPlan's literal filters: conv2d_depthwise.comp's LITERAL_W, separable_fast.comp's
// LITERAL_ROW and LITERAL_COL): ZERO_OR(w) is w, but a zero tap reads the uniform u_zero_tap (0: never set; its
// initialiser, and GL zeroes uniforms at link) and a -0 tap -u_zero_tap (its sign kept, as the uniform block's -0 would
// be). Mesa folds a product by a literal zero away, and with it a NaN or an infinity under the tap, where the reference's
// 0 * NaN and 0 * inf are NaN; a product by the uniform is computed. (A branch per tap instead made Mesa keep the loops:
// 18x slower.) Both selects fold at compile time.
#ifndef CONVGL_ZERO_TAP_GLSL
#define CONVGL_ZERO_TAP_GLSL

uniform float u_zero_tap = 0.0;
#define ZERO_OR(w) (floatBitsToUint(w) == 0x80000000u ? -u_zero_tap : (w) == 0.0 ? u_zero_tap : (w))

#endif
