#version 430
#if U64_STORES
#extension GL_ARB_gpu_shader_int64 : require
#endif
// The parity split of a transposed convolution at strides of at most 2 (GpuConvTranspose2D.RunParity): every output
// phase's values, each computed as a plain correlation into its own (C, H_phase, W_phase) tensor, woven into the output
// a pass per row parity PY: output (c, y, x) = phase (PY, x mod SX) at (c, q, x div SX) for y = SY q + PY. One
// invocation writes OX = 8 consecutive outputs of one row (read from the SX phases of row parity PY through r32f texel
// views; PY compiled in, so each value is one fetch from a known phase, no select between phases) with one
// 32-byte store (U64_STORES: rows of whole multiples of 8), two vec4 stores (VEC4_STORES: rows of whole vec4s) or 8
// predicated scalar ones: on llvmpipe every storage store is a loop over the lanes, and writing each phase stride apart
// (conv_transpose_interleave.comp, strides above 2) stored one value per loop. Values are moved, not computed: exact.
// Defines: SX, SY (1 or 2), PY (0 .. SY - 1), U64_STORES, VEC4_STORES.

layout(local_size_x = 16, local_size_y = 4, local_size_z = 1) in;

#define OX 8

// The phases (PY, 0) and (PY, 1) of this row parity (unit 1 only when SX = 2).
layout(r32f, binding = 0) readonly uniform imageBuffer u_phase0;
#if SX > 1
layout(r32f, binding = 1) readonly uniform imageBuffer u_phase1;
#endif

#if U64_STORES
#include "include/store8.glsl"
layout(std430, binding = 3) writeonly buffer Output8 { u64vec4 out_data8[]; };
#elif VEC4_STORES
layout(std430, binding = 3) writeonly buffer Output4 { vec4 out_data4[]; };
#else
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };
#endif

uniform ivec3 u_out_shape;      // (C, H, W) of the output
uniform int u_rows;             // rows q of this parity: y = SY q + PY < H
uniform ivec2 u_phase_size0;    // (W_phase, H_phase) of phase (PY, 0) (phase tensors may hold extra rows and columns)
uniform ivec2 u_phase_size1;    // the same for phase (PY, 1)

void main()
{
    int x0 = int(gl_GlobalInvocationID.x) * OX;
    int q = int(gl_GlobalInvocationID.y), c = int(gl_GlobalInvocationID.z);
    bool inside = x0 < u_out_shape.z && q < u_rows;
    // Loads stay inside the phase tensors however far out the invocation is; the stores below are predicated.
    int qc = min(q, u_rows - 1);
    int row0 = (c * u_phase_size0.y + qc) * u_phase_size0.x;
#if SX > 1
    int row1 = (c * u_phase_size1.y + qc) * u_phase_size1.x;
#endif
    float v[OX];
    for (int k = 0; k < OX; k++)
    {
        // x0 is a multiple of 8, so x mod SX is k mod SX: the phase is known once k is. Columns past a phase's width
        // (outputs past the row's end, never stored) are read clamped into it.
#if SX > 1
        v[k] = k % 2 == 0 ? imageLoad(u_phase0, row0 + min((x0 + k) / 2, u_phase_size0.x - 1)).r
                          : imageLoad(u_phase1, row1 + min((x0 + k) / 2, u_phase_size1.x - 1)).r;
#else
        v[k] = imageLoad(u_phase0, row0 + min(x0 + k, u_phase_size0.x - 1)).r;
#endif
    }
    if (inside)
    {
        int at = (c * u_out_shape.y + SY * q + PY) * u_out_shape.z + x0;
#if U64_STORES
        out_data8[at >> 3] = pack8(vec4(v[0], v[1], v[2], v[3]), vec4(v[4], v[5], v[6], v[7]));
#elif VEC4_STORES
        out_data4[at >> 2] = vec4(v[0], v[1], v[2], v[3]);
        if (x0 + 4 < u_out_shape.z) out_data4[(at >> 2) + 1] = vec4(v[4], v[5], v[6], v[7]);
#else
        for (int k = 0; k < OX; k++)
            if (x0 + k < u_out_shape.z) out_data[at + k] = v[k];
#endif
    }
}
