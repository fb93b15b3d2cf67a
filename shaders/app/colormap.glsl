#ifndef APP_COLORMAP_GLSL
#define APP_COLORMAP_GLSL
// A perceptually ordered colour map for feature maps (dark blue -> teal -> yellow), a polynomial fit in the
// spirit of matplotlib's viridis: dark means low, bright means high, readable in grey print.
vec3 featureColor(float t)
{
    t = clamp(t, 0.0, 1.0);
    const vec3 c0 = vec3(0.2777, 0.0054, 0.3341);
    const vec3 c1 = vec3(0.1051, 1.4046, 1.3846);
    const vec3 c2 = vec3(-0.3309, 0.2148, 0.0951);
    const vec3 c3 = vec3(-4.6342, -5.7991, -19.3324);
    const vec3 c4 = vec3(6.2283, 14.1799, 56.6906);
    const vec3 c5 = vec3(4.7764, -13.7451, -65.3530);
    const vec3 c6 = vec3(-5.4355, 4.6459, 26.3124);
    return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
}
#endif
