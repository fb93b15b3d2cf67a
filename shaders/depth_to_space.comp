#version 430
// Channels to pixels and back, the reference is DepthToSpace in src/ConvGL.Core/Ops/DepthToSpace.cs (ONNX DepthToSpace /
// SpaceToDepth, PyTorch PixelShuffle). MODE 0: depth to space, DCR; 1: depth to space, CRD (PixelShuffle); 2: space to
// depth. One output value per invocation, (x, y, plane) from the invocation id, the plane's image n = plane / C_out of
// a batch; the input through an r32f texel view. A pure permutation (NaN and infinities copied as they are).

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

layout(r32f, binding = 0) readonly uniform imageBuffer u_input; // (N C, H, W) as r32f texels
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_in_size;  // (W, H, C) of one image
uniform ivec3 u_out_size; // (W', H', C') of one image
uniform int u_block;

void main()
{
    ivec3 p = ivec3(gl_GlobalInvocationID);
    int n = p.z / u_out_size.z, oc = p.z - n * u_out_size.z;
#if MODE == 2
    int offset = oc / u_in_size.z, ic = oc - offset * u_in_size.z;
    int i = offset / u_block, j = offset - i * u_block;
    int iy = p.y * u_block + i, ix = p.x * u_block + j;
#else
    int iy = p.y / u_block, ix = p.x / u_block;
    int i = p.y - iy * u_block, j = p.x - ix * u_block;
#if MODE == 0
    int ic = (i * u_block + j) * u_out_size.z + oc;
#else
    int ic = (oc * u_block + i) * u_block + j;
#endif
#endif
    if (p.x >= u_out_size.x || p.y >= u_out_size.y) return;
    out_data[(p.z * u_out_size.y + p.y) * u_out_size.x + p.x] =
        imageLoad(u_input, ((n * u_in_size.z + ic) * u_in_size.y + iy) * u_in_size.x + ix).r;
}
