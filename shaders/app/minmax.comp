#version 430 core
// Per-channel min and max of a (C, H, W) tensor: one workgroup per channel, 256 threads striding over the
// plane, then a shared-memory tree reduction. Feeds the normalisation of every feature-map view.
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer TensorData { float data[]; };
layout(std430, binding = 1) writeonly buffer TensorRange { vec2 range[]; };
uniform int uC, uPlane;
shared vec2 partial[256];

void main()
{
    int c = int(gl_WorkGroupID.x);
    if (c >= uC) return;
    uint t = gl_LocalInvocationID.x;
    vec2 r = vec2(3.4e38, -3.4e38);
    for (int i = int(t); i < uPlane; i += 256)
    {
        float v = data[c * uPlane + i];
        r = vec2(min(r.x, v), max(r.y, v));
    }
    partial[t] = r;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1)
    {
        if (t < s) partial[t] = vec2(min(partial[t].x, partial[t + s].x), max(partial[t].y, partial[t + s].y));
        barrier();
    }
    if (t == 0u) range[c] = partial[0];
}
