#version 430
// The frequency-domain half of the convolution theorem for a whole layer: for output channel o,
//   Out_o = (1 / (F_h F_w)) * sum_{c in o's group} In_c * conj(K_{o,c})
// In_c is the forward FFT of input channel c's frame (fft_pad.comp), K_{o,c} the FFT of kernel (o, c) placed at
// the frame's origin (dilated). For a real kernel k, conj(FFT(k)) is the transform of correlating with k:
// corr[m] = sum_u k[u] in[m + u]. The sum over input channels happens here, in the frequency domain, so a layer
// needs one inverse FFT per output channel; the input's forward FFT is shared by every kernel of the bank.
// 1/(F_h F_w) is the inverse DFT's factor (fft_pass.comp leaves it out).
// Kernel spectra: two kernels per texel, kernel q = o * C_in_per_group + c in half q % 2 of pair q / 2.

#include "include/fft_complex.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input;
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_kernels;
layout(rgba32f, binding = 2) writeonly uniform imageBuffer u_output;

uniform int u_plane;     // F_h * F_w texels per frame
uniform int u_row;       // invocations per dispatch row (GlProgram.DispatchFlat)
uniform ivec2 u_group;   // (C_in per group, C_out per group)
uniform int u_cout;
uniform float u_scale;   // 1 / (F_h F_w)

void main()
{
    int p = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
    int o = int(gl_GlobalInvocationID.z);
    if (p >= u_plane || o >= u_cout) return;
    int first = o / u_group.y * u_group.x;
    vec4 acc = vec4(0.0);
    for (int c = 0; c < u_group.x; c++)
    {
        int q = o * u_group.x + c;
        vec4 pair = imageLoad(u_kernels, (q >> 1) * u_plane + p);
        vec2 k = (q & 1) == 0 ? pair.xy : pair.zw;
        acc += cmul2_conj(imageLoad(u_input, (first + c) * u_plane + p), k);
    }
    imageStore(u_output, o * u_plane + p, acc * u_scale);
}
