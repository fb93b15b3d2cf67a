#version 430 core
#include "../present/colormap.glsl"
#include "../present/ranges.glsl"
// Feature maps of a (C, H, W) float32 tensor straight from its storage buffer, every map normalised by its own
// min/max (the output view's single image goes through the Gpu project's TensorToImage instead):
//   uMode 1: channel uChannel alone, through the colour map (a map enlarged from the grid);
//   uMode 2: the grid: channel = cell index (uCols x uRows cells, row-major), each normalised and coloured.
// Min/max come from present/minmax.comp (Gpu/Present/ChannelRanges): each channel's ordered (min, max).
layout(std430, binding = 0) readonly buffer TensorData { float data[]; };
layout(std430, binding = 1) readonly buffer TensorRange { uvec2 range_bits[]; };
uniform int uC, uH, uW;
uniform int uMode, uChannel, uCols, uRows;
in vec2 vUv;
out vec4 fragColor;

float at(int c, vec2 uv)
{
    int x = clamp(int(uv.x * float(uW)), 0, uW - 1);
    int y = clamp(int(uv.y * float(uH)), 0, uH - 1);
    return data[(c * uH + y) * uW + x];
}

float normalised(int c, float v)
{
    return normalise(v, decode_range(range_bits[c]), 0.5);
}

void main()
{
    if (uMode == 1)
    {
        fragColor = vec4(colour_map(3, normalised(uChannel, at(uChannel, vUv))), 1.0);
        return;
    }
    vec2 cell = vUv * vec2(uCols, uRows);
    ivec2 index = ivec2(floor(cell));
    vec2 inCell = fract(cell);
    int c = index.y * uCols + index.x;
    // A thin gutter between maps keeps neighbouring maps apart.
    vec2 gutter = vec2(float(uCols) / 800.0, float(uRows) / 500.0) * 2.0;
    if (c >= uC || any(lessThan(inCell, gutter)) || any(greaterThan(inCell, 1.0 - gutter)))
    {
        fragColor = vec4(0.08, 0.08, 0.1, 1.0);
        return;
    }
    fragColor = vec4(colour_map(3, normalised(c, at(c, inCell))), 1.0);
}
