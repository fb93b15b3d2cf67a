#version 430
// |a - b| over channel u_channel of two (C, H, W) tensors of one shape, into a (1, H, W) tensor: the theorem view's
// difference map between the direct and the FFT result. minmax.comp's maximum of it is the max |direct - FFT| the
// view prints (float subtraction and abs are exact IEEE operations, so a CPU computing the same from the two read-back
// results gets the same number).

layout(local_size_x = 256, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Diff { float diff[]; };

uniform int u_plane;    // H * W
uniform int u_channel;

void main()
{
    int i = int(gl_GlobalInvocationID.x);
    if (i >= u_plane) return;
    int at = u_channel * u_plane + i;
    diff[i] = abs(a[at] - b[at]);
}
