#version 430
// Max and average pooling with every ONNX MaxPool / AveragePool option: padding per side, dilation,
// ceil_mode (through the output size the host computes) and count_include_pad either way. The
// reference is PaddedPool2D.Apply in src/ConvGL.Core/Ops/PaddedPool2D.cs.
// Defines: POOL_MAX (1 max, 0 average).

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

// (P, H, W) row-major: P planes pooled alone (channels, or batch * channels).
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
// (P, H_out, W_out) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_in_shape;    // (P, H, W)
uniform ivec3 u_out_shape;   // (P, H_out, W_out)
uniform ivec2 u_size;        // (kH, kW)
uniform ivec2 u_stride;      // (sy, sx)
uniform ivec2 u_dilation;    // (dy, dx)
uniform ivec2 u_pad;         // (top, left)
uniform ivec2 u_pad_end;     // (bottom, right)
uniform int u_include_pad;   // average: 1 divides by the taps inside the padded input, 0 by those inside the image

void main()
{
    ivec3 pos = ivec3(gl_GlobalInvocationID); // (x, y, plane)
    if (pos.x >= u_out_shape.z || pos.y >= u_out_shape.y || pos.z >= u_out_shape.x) return;
    int h = u_in_shape.y, w = u_in_shape.z;
    int plane = pos.z * h * w;
    int y0 = pos.y * u_stride.x - u_pad.x;
    int x0 = pos.x * u_stride.y - u_pad.y;

#if POOL_MAX
    // -inf: a window of padding alone (possible only with large pads) gives -inf, as the reference does.
    float acc = uintBitsToFloat(0xff800000u);
#else
    float acc = 0.0;
#endif
    int in_image = 0, in_padded = 0;
    for (int i = 0; i < u_size.x; i++)
    {
        int iy = y0 + i * u_dilation.x;
        if (iy >= h + u_pad_end.x) break;
        for (int j = 0; j < u_size.y; j++)
        {
            int ix = x0 + j * u_dilation.y;
            if (ix >= w + u_pad_end.y) break;
            in_padded++;
            if (uint(iy) >= uint(h) || uint(ix) >= uint(w)) continue;
            in_image++;
            float v = in_data[plane + iy * w + ix];
#if POOL_MAX
            // Not max(): GLSL leaves its NaN result undefined; a NaN in the window is the output, as in the reference.
            acc = (v > acc || isnan(v)) ? v : acc;
#else
            acc += v;
#endif
        }
    }
#if !POOL_MAX
    int divisor = u_include_pad != 0 ? in_padded : in_image;
    acc = divisor == 0 ? 0.0 : acc / float(divisor);
#endif
    out_data[(pos.z * u_out_shape.y + pos.y) * u_out_shape.z + pos.x] = acc;
}
