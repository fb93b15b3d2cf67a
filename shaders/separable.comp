#version 430
// One pass of a separable (rank-1) depthwise convolution: K[i, j] = col[i] * row[j] applied to every
// channel alone. Two passes equal the 2D reference (Conv2D.Filter with the outer-product kernel)
// exactly in exact arithmetic, because the border maps rows and columns independently:
//   pass AXIS=0 (row):    tmp[c, r, x] = sum_j row[j'] * in[c, r, map_x(x*sx + j*dx - left)]   (r over all H input rows)
//   pass AXIS=1 (column): out[c, y, x] = bias + sum_i col[i'] * tmp[c, map_y(y*sy + i*dy - top), x]
// so the x stride/dilation/padding live entirely in the row pass and the y ones in the column pass;
// a zero border contributes 0 in either pass (map returns -1). j' = j, or k-1-j under CONVOLVE.
// Defines: AXIS (0 row, 1 column), BORDER, CONVOLVE (0/1), HAS_BIAS (0/1, column pass only).

#include "include/border.glsl"

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

// (C, H_in, W_in) row-major.
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
// The 1D kernel of this pass (k values).
layout(std430, binding = 1) readonly buffer Kernel { float k_data[]; };
// (C) -- one bias per channel, added in the column pass.
layout(std430, binding = 2) readonly buffer Bias { float b_data[]; };
// (C, H_out, W_out) row-major. Row pass: H_out = H_in.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_in_shape;   // (C, H_in, W_in)
uniform ivec3 u_out_shape;  // (C, H_out, W_out)
uniform int u_k;            // kernel length along AXIS
uniform int u_stride;       // along AXIS
uniform int u_dilation;     // along AXIS
uniform int u_pad;          // padding before, along AXIS

void main()
{
    ivec3 pos = ivec3(gl_GlobalInvocationID); // (x, y, c)
    if (pos.x >= u_out_shape.z || pos.y >= u_out_shape.y || pos.z >= u_out_shape.x) return;
    int c = pos.z;
    int h = u_in_shape.y, w = u_in_shape.z;

#if AXIS == 0
    int n = w;
    int p0 = pos.x * u_stride - u_pad;
    int base = (c * h + pos.y) * w;   // start of input row
    int step = 1;
#else
    int n = h;
    int p0 = pos.y * u_stride - u_pad;
    int base = c * h * w + pos.x;     // top of input column
    int step = w;
#endif

#if AXIS == 1 && HAS_BIAS
    float sum = b_data[c];
#else
    float sum = 0.0;
#endif
    for (int j = 0; j < u_k; j++)
    {
        int s = border_map(p0 + j * u_dilation, n);
        if (s < 0) continue;
#if CONVOLVE
        float kv = k_data[u_k - 1 - j];
#else
        float kv = k_data[j];
#endif
        sum += kv * in_data[base + s * step];
    }
    out_data[(c * u_out_shape.y + pos.y) * u_out_shape.z + pos.x] = sum;
}
