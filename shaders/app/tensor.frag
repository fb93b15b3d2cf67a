#version 430 core
#include "../present/colormap.glsl"
#include "../present/ranges.glsl"
// Feature maps of a (C, H, W) float32 tensor straight from its buffer (no intermediate image), every map normalised by
// its own min/max and coloured by colormap.glsl's map COLORMAP (0 gray, 1 heat, 2 diverging, 3 viridis):
//   MODE 1: channel uChannel alone (the output view's map, a map enlarged from the grid, a filters-view cell);
//   MODE 2: the grid: channel = cell index (uCols x uRows cells, row-major), each normalised and coloured;
//   MODE 3: channels uChannel..+2 as red, green, blue, sharing one range (the union of theirs; no colour map).
// A constant map (max == min) shows position uEmpty. Values are point-sampled: pixel (u, v) shows map pixel
// (floor(u W), floor(v H)).
// Mode and colour map are defines: llvmpipe runs every side of a branch, uniform or not (a uniform mode and map cost
// the output view 48 ms a frame where a textured image of the map cost 30, and the specialised shader less).
// Min/max come from present/minmax.comp (Gpu/Present/ChannelRanges): each channel's ordered (min, max). Values are
// point-sampled: pixel (u, v) shows map pixel (floor(u W), floor(v H)).
// Both buffers are read through texel views (a vector gather on llvmpipe, where a storage-block load with a per-pixel
// address is a scalar loop per lane: the grid cost 60-80 ms a frame that way). The tensor's values as r32f texels
// (unit 1), the ranges as rg32ui texels (unit 2).
layout(binding = 1) uniform samplerBuffer uData;
layout(binding = 2) uniform usamplerBuffer uRanges;
uniform int uC, uH, uW;
uniform int uChannel, uCols, uRows;
uniform float uInset; // MODE 2: the gutter's share of a cell on each axis (GridView.Inset), half on each side
uniform float uEmpty;
in vec2 vUv;
out vec4 fragColor;

int texel(vec2 uv)
{
    int x = clamp(int(uv.x * float(uW)), 0, uW - 1);
    int y = clamp(int(uv.y * float(uH)), 0, uH - 1);
    return y * uW + x;
}

float normalised(int c, int i)
{
    return normalise(texelFetch(uData, c * uH * uW + i).r, decode_range(texelFetch(uRanges, c).xy), uEmpty);
}

void main()
{
#if MODE == 1
    fragColor = vec4(colour_map(COLORMAP, normalised(uChannel, texel(vUv))), 1.0);
#elif MODE == 2
    vec2 cell = vUv * vec2(uCols, uRows);
    ivec2 index = ivec2(floor(cell));
    vec2 inCell = fract(cell);
    int c = index.y * uCols + index.x;
    // A thin gutter between maps keeps neighbouring maps apart: each map is drawn whole inside its cell, shrunk by the
    // same share on both axes (its aspect kept); the gutter covered the maps' edge pixels (half of a 7x7 map's).
    vec2 inMap = (inCell - 0.5 * uInset) / (1.0 - uInset);
    if (c >= uC || any(lessThan(inMap, vec2(0.0))) || any(greaterThanEqual(inMap, vec2(1.0))))
    {
        fragColor = vec4(0.08, 0.08, 0.1, 1.0);
        return;
    }
    fragColor = vec4(colour_map(COLORMAP, normalised(c, texel(inMap))), 1.0);
#elif MODE == 3
    uvec2 r = texelFetch(uRanges, uChannel).xy, g = texelFetch(uRanges, uChannel + 1).xy, b = texelFetch(uRanges, uChannel + 2).xy;
    vec2 range = decode_range(uvec2(min(r.x, min(g.x, b.x)), max(r.y, max(g.y, b.y))));
    int i = texel(vUv), plane = uH * uW;
    fragColor = vec4(normalise(texelFetch(uData, uChannel * plane + i).r, range, uEmpty),
                     normalise(texelFetch(uData, (uChannel + 1) * plane + i).r, range, uEmpty),
                     normalise(texelFetch(uData, (uChannel + 2) * plane + i).r, range, uEmpty), 1.0);
#else
#error MODE must be 1, 2 or 3
#endif
}
