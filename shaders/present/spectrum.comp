#version 430
// The theorem view's three spectra as maps: log(1 + |F|) of the input frame's spectrum In_c, of the kernel's K_q
// (zero-padded to the same frame) and of their product P_o, fftshifted so DC is in the middle (frequency k of an
// n-point axis drawn at (k + n/2) mod n, NumPy's fftshift), into a (3, F_h, F_w) tensor: channel 0 input, 1 kernel,
// 2 product. The window normalises each by minmax.comp and colours it with colormap.glsl (Presenter.DrawTensor).
// The values are GpuFftConv2D's own (CaptureSpectra), from the passes that compute the FFT result: vec4 texels of
// two complex values; input and product frames hold one tile, so their spectrum is in .xy; kernel q is in half
// q % 2 of pair q / 2.

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

// The spectra through rgba32f texel views of their buffers (texture units 0-2): a vector gather on llvmpipe, where a
// storage-block load with a per-invocation address is a scalar loop (this pass took 28 ms a 384x768 frame that way).
layout(rgba32f, binding = 0) readonly uniform imageBuffer u_in_spec;
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_k_spec;
layout(rgba32f, binding = 2) readonly uniform imageBuffer u_p_spec;
layout(std430, binding = 3) writeonly buffer Maps { float maps[]; };

uniform ivec2 u_frame;   // (F_h, F_w)
uniform int u_input;     // input channel c
uniform int u_kernel;    // kernel q = o * C_in/groups + c
uniform int u_output;    // output channel o
uniform int u_kernel_map; // 0: leave the kernel's map as it is (it changes only with the weights and the frame)

void main()
{
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);   // (column, row) as drawn
    if (p.x >= u_frame.y || p.y >= u_frame.x) return;
    // Drawn position p shows frequency (p - n/2) mod n.
    int ky = p.y - u_frame.x / 2, kx = p.x - u_frame.y / 2;
    ky += ky < 0 ? u_frame.x : 0;
    kx += kx < 0 ? u_frame.y : 0;
    int plane = u_frame.x * u_frame.y, t = ky * u_frame.y + kx, at = p.y * u_frame.y + p.x;
    maps[at] = log(1.0 + length(imageLoad(u_in_spec, u_input * plane + t).xy));
    if (u_kernel_map != 0)
    {
        vec4 pair = imageLoad(u_k_spec, (u_kernel >> 1) * plane + t);
        vec2 k = (u_kernel & 1) != 0 ? pair.zw : pair.xy;
        maps[plane + at] = log(1.0 + length(k));
    }
    maps[2 * plane + at] = log(1.0 + length(imageLoad(u_p_spec, u_output * plane + t).xy));
}
