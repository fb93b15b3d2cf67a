// Every colour map ConvGL draws a single feature map with, in one place (TensorToImage's compute shader and the
// window's grid and enlarged maps both include it), t in [0, 1]:
//   0 gray; 1 heat: black -> red -> yellow -> white, each component a ramp over a third of the range;
//   2 diverging: blue at 0, white at 0.5, red at 1 (signed maps such as edge responses);
//   3 viridis: dark blue -> teal -> yellow, perceptually ordered (a polynomial fit in the spirit of matplotlib's
//     viridis): dark means low, bright means high, readable in grey print.
// The numbers match Gpu/Present/ColorMap's order.
#ifndef CONVGL_COLORMAP_GLSL
#define CONVGL_COLORMAP_GLSL

vec3 colour_map(int map, float t)
{
    t = clamp(t, 0.0, 1.0);
    if (map == 1) return clamp(vec3(3.0 * t, 3.0 * t - 1.0, 3.0 * t - 2.0), 0.0, 1.0);
    if (map == 2) return t < 0.5 ? mix(vec3(0.0, 0.0, 1.0), vec3(1.0), 2.0 * t) : mix(vec3(1.0), vec3(1.0, 0.0, 0.0), 2.0 * t - 1.0);
    if (map == 3)
    {
        const vec3 c0 = vec3(0.2777, 0.0054, 0.3341);
        const vec3 c1 = vec3(0.1051, 1.4046, 1.3846);
        const vec3 c2 = vec3(-0.3309, 0.2148, 0.0951);
        const vec3 c3 = vec3(-4.6342, -5.7991, -19.3324);
        const vec3 c4 = vec3(6.2283, 14.1799, 56.6906);
        const vec3 c5 = vec3(4.7764, -13.7451, -65.3530);
        const vec3 c6 = vec3(-5.4355, 4.6459, 26.3124);
        return c0 + t * (c1 + t * (c2 + t * (c3 + t * (c4 + t * (c5 + t * c6)))));
    }
    return vec3(t);
}

#endif
