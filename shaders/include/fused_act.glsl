// An activation fused into a producer's store (FUSED_ACT: 0 or undefined none, 1 relu, 2 leaky relu with slope ACT_A, 3 clip
// to [ACT_A, ACT_B], 4 any other, include/activation_fn.glsl's ACTIVATION; ACT_A / ACT_B / ACT_LO / ACT_HI are float
// literals written as uintBitsToFloat of their bits, so they are exact, or u_act_zero for a zero factor, see below),
// exactly the reference's Activation: relu max(x, 0) with a NaN kept (selected back, no NaN constant needed), leaky
// x > 0 ? x : slope x, clip min(max(x, lo), hi) with a NaN kept. With FUSED_GATE 1 the store is x times the activation of x
// (a mul of a map and its own activation: SiLU as x * sigmoid(x)). The stack runner fuses such layers into the conv or add
// before them when no one else reads their maps (GpuStackRunner.SetObserved): one or two passes over the map fewer.
#ifndef CONVGL_FUSED_ACT_GLSL
#define CONVGL_FUSED_ACT_GLSL
#ifndef FUSED_ACT
#define FUSED_ACT 0
#endif
#ifndef FUSED_GATE
#define FUSED_GATE 0
#endif
#if FUSED_ACT == 2 || FUSED_ACT == 4
// A constant of 0 that the activation multiplies by is this uniform, not a literal (FusedActivation.Factor): never set,
// it is 0 (its initialiser; GL zeroes uniforms at link too), and Mesa cannot fold 0 * x away, so a NaN or an infinity times it
// is NaN as in the reference.
uniform float u_act_zero = 0.0;
#endif
#if FUSED_ACT == 1
float act_value(float x) { return x > 0.0 || isnan(x) ? x : 0.0; }
vec4 act_value(vec4 x) { return mix(mix(vec4(0.0), x, greaterThan(x, vec4(0.0))), x, isnan(x)); }
#elif FUSED_ACT == 2
float act_value(float x) { return x > 0.0 ? x : ACT_A * x; }
vec4 act_value(vec4 x) { return mix(ACT_A * x, x, greaterThan(x, vec4(0.0))); }
#elif FUSED_ACT == 3
// GLSL's min / max need not propagate a NaN: it is selected back.
float act_value(float x) { return isnan(x) ? x : min(max(x, ACT_A), ACT_B); }
vec4 act_value(vec4 x) { return mix(min(max(x, vec4(ACT_A)), vec4(ACT_B)), x, isnan(x)); }
#elif FUSED_ACT == 4
// Any other activation (ACTIVATION, the ActivationKind; its constants ACT_A, ACT_B, ACT_LO, ACT_HI), as
// activation_fast.comp computes it.
#define ACT_SLOPE ACT_A
#define ACT_MIN ACT_LO
#define ACT_MAX ACT_HI
#define ACT_BETA ACT_B
#include "activation_fn.glsl"
vec4 act_value(vec4 x) { return activation_fn(x); }
float act_value(float x) { return activation_fn(vec4(x)).x; }
#elif FUSED_ACT != 0
#error FUSED_ACT must be 0..4
#endif
#if FUSED_ACT == 0
#define fused_act(x) (x)
#elif FUSED_GATE == 1
// The mul's product of two float32 values, as the reference's Mul of the map and the activation's map.
float fused_act(float x) { return x * act_value(x); }
vec4 fused_act(vec4 x) { return x * act_value(x); }
#else
float fused_act(float x) { return act_value(x); }
vec4 fused_act(vec4 x) { return act_value(x); }
#endif
#endif
