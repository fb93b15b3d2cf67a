// erf in float, GLSL having none, for a >= 0 (a2 = a * a), as expressions of any float type (float or vec4):
// ERF_SERIES, erf(a) by its Maclaurin series to a^11, for a below 0.5 (the next term is under 2e-8); ERFC_TAIL, erfc(a) =
// 1 - erf(a) by Abramowitz and Stegun's 7.1.26 with t = 1 / (1 + ERFC_P a), for a from 0.5 on (absolute error under
// 1.5e-7). The reference is Unary.Erf / Unary.Erfc in src/ConvGL.Core/Ops/Unary.cs (double). Used by unary.comp's erf
// and include/activation_fn.glsl's gelu.
#ifndef CONVGL_ERF_GLSL
#define CONVGL_ERF_GLSL
#define ERF_SERIES(a, a2) (1.1283791670955126 * (a) * (1.0 + (a2) * (-1.0 / 3.0 + (a2) * (0.1 + (a2) * (-1.0 / 42.0 + (a2) * (1.0 / 216.0 + (a2) * (-1.0 / 1320.0)))))))
#define ERFC_P 0.3275911
#define ERFC_TAIL(t, a2) ((t) * (0.254829592 + (t) * (-0.284496736 + (t) * (1.421413741 + (t) * (-1.453152027 + (t) * 1.061405429)))) * exp(-(a2)))
#endif
