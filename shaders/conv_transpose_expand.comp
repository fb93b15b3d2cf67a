#version 430
// The input of a transposed convolution spread out for an ordinary one (GpuConvTranspose2D's fast path): (C, H, W) ->
// (C, HE, WE) with input (y, x) at (padTop' + y * strideY, padLeft' + x * strideX) and zeros between and around, where
// padTop' = dilationY (kH - 1) - padTop (negative: rows cropped). A valid, stride-1 correlation with the 180-degree
// rotated kernel, input and output channels swapped, then gives ConvTranspose2D.Apply's output exactly (the added taps
// are zeros). One output value per invocation, (x, y, channel) from the invocation id; the input through an r32f texel
// view, read where the position is a whole multiple of the stride inside the map and selected away elsewhere.

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input; // (C, H, W) as r32f texels
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec2 u_in_size;  // (W, H)
uniform ivec2 u_out_size; // (WE, HE)
uniform ivec2 u_stride;   // (x, y)
uniform ivec2 u_offset;   // (padLeft', padTop')

void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    ivec2 n = p.xy - u_offset; // position on the strided grid
    ivec2 q = max(n, ivec2(0)) / u_stride;
    bool real = all(greaterThanEqual(n, ivec2(0))) && all(equal(q * u_stride, n)) && all(lessThan(q, u_in_size));
    ivec2 c = clamp(q, ivec2(0), u_in_size - 1);
    float v = imageLoad(u_input, (p.z * u_in_size.y + c.y) * u_in_size.x + c.x).r;
    if (p.x < u_out_size.x && p.y < u_out_size.y) out_data[(p.z * u_out_size.y + p.y) * u_out_size.x + p.x] = real ? v : 0.0;
}
