#version 430
// An RGBA8 image texture -> a (C, H, W) tensor with values in [0, 1] (8-bit / 255: the UNORM
// conversion texelFetch applies). GRAY=1 gives C = 1 with BT.601 luma (0.299 R + 0.587 G + 0.114 B,
// as OpenCV's cvtColor); GRAY=0 gives C = 3 (R, G, B). Texel (x, y) becomes tensor (y, x): texture
// row 0 is the image's top row as uploaded from a file, unless u_flip_y asks for GL's bottom-up order.
// VEC4 (rows a multiple of 4 wide): 4 pixels per invocation and one vec4 store per channel (a storage write is a loop
// over the lanes on llvmpipe: 3 stores per 4 RGB pixels instead of 12); else one pixel per invocation.

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(binding = 0) uniform sampler2D u_image;
// (C, H, W) row-major, C = 1 (gray) or 3 (rgb).
#if VEC4
layout(std430, binding = 3) writeonly buffer Output { vec4 out_data[]; };
#define PIXELS 4
#else
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#define PIXELS 1
#endif

uniform ivec2 u_size;   // (W, H)
uniform int u_flip_y;

void main()
{
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    bool inside = PIXELS * p.x < u_size.x && p.y < u_size.y;
    p = min(p, ivec2(u_size.x / PIXELS - 1, u_size.y - 1));
    int ty = u_flip_y != 0 ? u_size.y - 1 - p.y : p.y;
#if VEC4
    vec4 t0 = texelFetch(u_image, ivec2(4 * p.x, ty), 0), t1 = texelFetch(u_image, ivec2(4 * p.x + 1, ty), 0);
    vec4 t2 = texelFetch(u_image, ivec2(4 * p.x + 2, ty), 0), t3 = texelFetch(u_image, ivec2(4 * p.x + 3, ty), 0);
    int i = (p.y * u_size.x) / 4 + p.x;
#if GRAY
    const vec3 luma = vec3(0.299, 0.587, 0.114);
    if (inside) out_data[i] = vec4(dot(luma, t0.rgb), dot(luma, t1.rgb), dot(luma, t2.rgb), dot(luma, t3.rgb));
#else
    int plane = (u_size.x * u_size.y) / 4;
    if (inside)
    {
        out_data[i] = vec4(t0.r, t1.r, t2.r, t3.r);
        out_data[plane + i] = vec4(t0.g, t1.g, t2.g, t3.g);
        out_data[2 * plane + i] = vec4(t0.b, t1.b, t2.b, t3.b);
    }
#endif
#else
    vec4 t = texelFetch(u_image, ivec2(p.x, ty), 0);
    int i = p.y * u_size.x + p.x;
#if GRAY
    if (inside) out_data[i] = 0.299 * t.r + 0.587 * t.g + 0.114 * t.b;
#else
    int plane = u_size.x * u_size.y;
    if (inside)
    {
        out_data[i] = t.r;
        out_data[plane + i] = t.g;
        out_data[2 * plane + i] = t.b;
    }
#endif
#endif
}
