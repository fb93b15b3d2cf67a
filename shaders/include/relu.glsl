// A ReLU fused into a producer's store (RELU 1; without RELU, or with RELU 0, values are stored as they are): x > 0 ? x
// : 0, exactly the reference's Activation for relu (a NaN becomes 0). The stack runner fuses a relu into the conv or add
// before it when no one looks at that layer's own map (GpuStackRunner.SetObserved): one pass over the map fewer.
#ifndef CONVGL_RELU_GLSL
#define CONVGL_RELU_GLSL
#ifndef RELU
#define RELU 0
#endif
#if RELU
float relu_out(float x) { return x > 0.0 ? x : 0.0; }
vec4 relu_out(vec4 x) { return mix(vec4(0.0), x, greaterThan(x, vec4(0.0))); }
#else
#define relu_out(x) (x)
#endif
#endif
