#version 430
// Max and average pooling with every ONNX MaxPool / AveragePool option: padding per side, dilation,
// ceil_mode (through the output size the host computes) and count_include_pad either way. The
// reference is PaddedPool2D.Apply in src/ConvGL.Core/Ops/PaddedPool2D.cs.
// Defines: POOL_MAX (1 max, 0 average), TEXEL_VIEW (the input read through an r32f texel view of its buffer: a vector
// gather on llvmpipe, where a storage-block load with a per-lane address is a scalar loop over the lanes; GpuPaddedPool2D
// sets it wherever the input fits the driver's texel-buffer size).

// One output per invocation, the outputs numbered flat ((plane * H_out + y) * W_out + x, GlProgram.DispatchFlat): a grid
// of 16x16 tiles would run mostly idle invocations on small maps (ResNet18's 7x7 average pool to 512 maps of 1x1 filled
// 1 of every 256, 1.2-1.8 ms on llvmpipe).
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

// (P, H, W) row-major: P planes pooled alone (channels, or batch * channels).
#if TEXEL_VIEW
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
#define LOAD(i) imageLoad(u_input, (i)).r
#else
layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
#define LOAD(i) in_data[(i)]
#endif
// (P, H_out, W_out) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform ivec3 u_in_shape;    // (P, H, W)
uniform ivec3 u_out_shape;   // (P, H_out, W_out)
uniform int u_row;          // invocations per dispatch row (DispatchFlat)
uniform ivec2 u_size;        // (kH, kW)
uniform ivec2 u_stride;      // (sy, sx)
uniform ivec2 u_dilation;    // (dy, dx)
uniform ivec2 u_pad;         // (top, left)
uniform ivec2 u_pad_end;     // (bottom, right)
uniform int u_include_pad;   // average: 1 divides by the taps inside the padded input, 0 by those inside the image

void main()
{
    int index = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    if (index >= u_out_shape.x * u_out_shape.y * u_out_shape.z) return;
    int rows = index / u_out_shape.z;
    ivec3 pos = ivec3(index - rows * u_out_shape.z, rows % u_out_shape.y, rows / u_out_shape.y); // (x, y, plane)
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
            float v = LOAD(plane + iy * w + ix);
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
