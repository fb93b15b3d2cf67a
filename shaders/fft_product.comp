#version 430
// The frequency-domain half of the convolution theorem, fused with the column passes on either side of it.
// For output channel o:
//   Out_o = (1 / (F_h F_w)) * sum_{c in o's group} In_c * conj(K_{o,c})
// In_c is the forward FFT of input channel c's frame, K_{o,c} the FFT of kernel (o, c) placed at the frame's origin
// (dilated). For a real kernel k, conj(FFT(k)) is the transform of correlating with k: corr[m] = sum_u k[u] in[m + u].
// The sum over input channels happens here, in the frequency domain, so a layer needs one inverse FFT per output
// channel; the input's forward FFT is shared by every kernel of the bank. 1/(F_h F_w) is the inverse DFT's factor.
//
// Stockham passes (fft_pass.comp) let one invocation carry a column's spectrum from the last forward pass into the
// first inverse one: with the last forward radix R (Ns = N/R), butterfly j writes rows j + r N/R, which are exactly
// the rows the first inverse pass of radix R (Ns = 1) reads for its butterfly j. So an invocation (column x,
// butterfly j, output channel o), for each input channel c of o's group:
//   - FORWARD_LAST: reads In_c's rows j + r N/R after all but the last forward column pass and does that pass
//     (twiddle w^(j r), w = exp(-2 pi i / N), then DFT_R); otherwise they are read fully transformed;
//   - multiplies by conj(K_{o,c}) at those rows and sums;
// then runs the first inverse column pass on the sum and writes rows j R + r of output frame o.
// That saves two passes over the frames (a separate product and an inverse pass). FORWARD_LAST is used only when
// every input channel feeds one output channel (C_out / groups == 1, as for an image filter): otherwise the
// forward pass would be repeated for each output channel.
// Kernel spectra: two kernels per texel, kernel q = o * C_in_per_group + c in half q % 2 of pair q / 2.
// CAPTURE (the convolution theorem view, GpuFftConv2D.CaptureSpectra): also stores what is only ever in registers
// here, the spectra as the theorem names them: each input channel's spectrum In_c (written by the first output
// channel of its group) and each output channel's product sum_c In_c conj(K_{o,c}) before the 1/(F_h F_w), both at
// their natural frequency (row j + r F_h/R, column x: the last forward pass leaves them in natural order).
// Defines: RADIX (1, 2, 3, 4, 5, 8, 16), FORWARD_LAST (0/1), CAPTURE (0/1).

#include "include/fft_radix.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(rgba32f, binding = 0) readonly uniform imageBuffer u_input;
layout(rgba32f, binding = 1) writeonly uniform imageBuffer u_output;
layout(rg32f, binding = 2) readonly uniform imageBuffer u_twiddles;  // column twiddles exp(-2 pi i q / F_h)
layout(rgba32f, binding = 3) readonly uniform imageBuffer u_kernels;

uniform ivec2 u_frame;   // (F_h, F_w)
uniform int u_quarter;   // F_h / RADIX
uniform ivec2 u_group;   // (C_in per group, C_out per group)
uniform int u_cout;
uniform float u_scale;   // 1 / (F_h F_w)
#if CAPTURE
layout(rgba32f, binding = 4) writeonly uniform imageBuffer u_input_spectra;  // C_in frames
layout(rgba32f, binding = 5) writeonly uniform imageBuffer u_products;       // C_out frames
#endif

void main()
{
    int x = int(gl_GlobalInvocationID.x), j = int(gl_GlobalInvocationID.y), o = int(gl_GlobalInvocationID.z);
    if (x >= u_frame.y || j >= u_quarter || o >= u_cout) return;
    int plane = u_frame.x * u_frame.y;
    int first = o / u_group.y * u_group.x;
    vec4 acc[RADIX];
    for (int r = 0; r < RADIX; r++) acc[r] = vec4(0.0);
#if FORWARD_LAST
    vec2 w1 = imageLoad(u_twiddles, j).xy;
#endif
    for (int c = 0; c < u_group.x; c++)
    {
        vec4 v[RADIX];
        int base = (first + c) * plane + x;
        for (int r = 0; r < RADIX; r++) v[r] = imageLoad(u_input, base + (j + r * u_quarter) * u_frame.y);
#if FORWARD_LAST
        fft_twiddle(v, w1);
        fft_dft(v, -1.0);
#endif
#if CAPTURE
        if (o == first / u_group.x * u_group.y)
            for (int r = 0; r < RADIX; r++) imageStore(u_input_spectra, base + (j + r * u_quarter) * u_frame.y, v[r]);
#endif
        int q = o * u_group.x + c;
        bool odd = (q & 1) != 0;
        int kbase = (q >> 1) * plane + x;
        for (int r = 0; r < RADIX; r++)
        {
            vec4 pair = imageLoad(u_kernels, kbase + (j + r * u_quarter) * u_frame.y);
            acc[r] += cmul2_conj(v[r], odd ? pair.zw : pair.xy);
        }
    }
#if CAPTURE
    for (int r = 0; r < RADIX; r++) imageStore(u_products, o * plane + x + (j + r * u_quarter) * u_frame.y, acc[r]);
#endif
    for (int r = 0; r < RADIX; r++) acc[r] *= u_scale;
    fft_dft(acc, 1.0);
    int obase = o * plane + x;
    for (int r = 0; r < RADIX; r++) imageStore(u_output, obase + (j * RADIX + r) * u_frame.y, acc[r]);
}
