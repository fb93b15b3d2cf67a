// What the fast conv variants share (conv2d_depthwise.comp, conv2d_dense.comp): how the input is read, where the
// weights live, and which outputs one dispatch covers. Measured on llvmpipe (../shared/PERF-NOTES.md, shaders/README.md):
// - Input through a texel-buffer view of the tensor's own buffer (glTexBuffer, r32f, no copy) read as a readonly
//   imageBuffer: imageLoad is a vector gather, an SSBO load with a per-lane address a scalar loop (~35x slower per
//   float). On llvmpipe imageLoad also costs less than texelFetch through a samplerBuffer of the same view: 13-17% in
//   a load-only probe, 10-20% on ResNet18's layers (bench/README.md, "Image loads").
// - Weights (and bias) in a uniform block, or a texel view (PARAMS_TEXEL: dense layers always, depthwise ones above
//   GL_MAX_UNIFORM_BLOCK_SIZE or, on llvmpipe, with more than 9 taps), packed
//   by ConvPlan already flipped under convolve and with a zero bias when there is none, so neither is a define.
// - OX outputs per invocation along x: a row of OX outputs reads SPAN inputs per kernel row, not OX * KW.
// - A dispatch covers one rectangle of outputs (u_origin, u_extent). The interior rectangle (RIM 0), where every tap
//   lies inside the image, has no border code at all; up to four rim rectangles (RIM 1) map every index through
//   border_index (branch-free). Both sum the same terms in the same order.
// Defines: BORDER, KH, KW, SX, DX (x stride and dilation), OX, RIM, VEC4_LOADS, VEC4_SHIFT, PARAMS_VEC4 (the driver's uniform
// block size in vec4s) or PARAMS_TEXEL. Everything else is a uniform, so one program serves many layers.
#ifndef CONVGL_CONV_FAST_GLSL
#define CONVGL_CONV_FAST_GLSL

#include "border.glsl"

// Inputs one row of OX outputs reads along x (some unused under a stride or dilation; the compiler drops those).
#define SPAN ((OX - 1) * SX + (KW - 1) * DX + 1)

// The input tensor, (C, H, W) row-major, as r32f texels: texel (c*H + y)*W + x; and the same memory as rgba32f
// texels (floats 4t .. 4t+3), read in the interior when rows are whole vec4s (VEC4_LOADS: the width is a multiple of
// 4): a quarter of the fetches. Every interior row segment starts VEC4_SHIFT (0..3) floats past a multiple of 4, the
// same for every block (blocks are OX * SX apart, a multiple of 8; see ConvPlan), so the loads start that far earlier
// (a stride-2 layer with an odd padding is never aligned: shift 1 or 3).
layout(r32f, binding = 0) readonly uniform imageBuffer u_input;
layout(rgba32f, binding = 1) readonly uniform imageBuffer u_input4;

// The output tensor, (C_out, H_out, W_out) row-major.
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

// The parameter block: a uniform block while it fits, else the same packed vec4s through an rgba32f image view of
// their buffer (PARAMS_TEXEL). Not a storage block: there a load of a varying address (the block of weights of this
// workgroup, in a loop over input channels) is the per-lane scalar loop; a texel fetch is a vector gather (a 64->64
// 3x3 layer at 56x56 took 1.4 s with a storage block, 0.3 s with the texel view, on llvmpipe).
#if PARAMS_TEXEL
layout(rgba32f, binding = 2) readonly uniform imageBuffer u_params;
#define PARAM(i) imageLoad(u_params, (i))
#else
layout(std140, binding = 0) uniform Params { vec4 params[PARAMS_VEC4]; };
#define PARAM(i) params[i]
#endif

uniform ivec2 u_in_size;  // (W, H) of the input
uniform ivec2 u_out_size; // (W_out, H_out)
uniform ivec2 u_pad;      // padding before: (left, top)
uniform ivec2 u_step_y;   // (stride, dilation) along y
uniform ivec2 u_origin;   // first output (x, y) of this dispatch's rectangle
uniform ivec2 u_extent;   // the rectangle's (width, height) in outputs

// The first output (x, y) of this invocation's row of OX, and whether it lies in the rectangle. The rectangle's rows of
// blocks are numbered flat (invocation y * u_row + x, 1D workgroups of 64), so a dispatch runs about as many invocations
// as the rectangle has blocks: with 2D workgroups a 1-block-wide rim strip ran 16 invocations per block, and every one
// does the full work (stores are predicated, there is no early return). Interior loads must stay inside the image, so
// there the block used for loading is clamped into the rectangle, whose width is a multiple of OX; the store is
// predicated on the true position.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

uniform int u_row; // invocations per dispatch row (ComputeOp.FlatGroups)

// A block is OX outputs along x by OY rows (OY 1 unless the shader defines it; separable_fast.comp's blocks are taller).
// In the interior the last row of blocks is moved up to end on the rectangle's last row (which is at least OY tall), so
// it overlaps the one above and recomputes a few rows: the same values, stored twice.
#ifndef OY
#define OY 1
#endif

// FLAT_Z: the z index (channel block) is numbered flat with the blocks too, z-major (u_z_count of them), so a small
// rectangle (a 7x7 map has 7 blocks) still fills its workgroups of 64; block_z() then returns it, else gl_WorkGroupID.z.
#ifndef FLAT_Z
#define FLAT_Z 0
#endif
#if FLAT_Z
uniform int u_z_count;
int g_block_z = 0; // set by block_output before use; initialised so no driver warns of a read before a write
int block_z() { return g_block_z; }
#else
int block_z() { return int(gl_WorkGroupID.z); }
#endif

ivec2 block_output(out bool inside)
{
    int blocks_x = (u_extent.x + OX - 1) / OX;
    int blocks = blocks_x * ((u_extent.y + OY - 1) / OY);
    int id = int(gl_GlobalInvocationID.y) * u_row + int(gl_GlobalInvocationID.x);
#if FLAT_Z
    inside = id < blocks * u_z_count;
    id = min(id, blocks * u_z_count - 1);
    g_block_z = id / blocks;
    id -= g_block_z * blocks;
#else
    inside = id < blocks;
#endif
#if !RIM
    id = min(id, blocks - 1);
#endif
    int by = id / blocks_x;
    ivec2 b = ivec2((id - by * blocks_x) * OX, by * OY);
#if !RIM
    b.y = min(b.y, u_extent.y - OY);
#endif
    return u_origin + b;
}

// Input column of each of the SPAN taps along x, and whether it is real (only a zero border has unreal ones).
void span_columns(int x0, out int cols[SPAN], out bool real[SPAN])
{
    for (int s = 0; s < SPAN; s++)
    {
#if RIM
        cols[s] = border_index(x0 + s, u_in_size.x);
        real[s] = BORDER != BORDER_ZERO || border_inside(x0 + s, u_in_size.x);
#else
        cols[s] = x0 + s;
        real[s] = true;
#endif
    }
}

// Input row of tap row i (y0 + i*DY), and whether it is real.
int tap_row(int y, out bool real)
{
#if RIM
    real = BORDER != BORDER_ZERO || border_inside(y, u_in_size.y);
    return border_index(y, u_in_size.y);
#else
    real = true;
    return y;
#endif
}

// Loads the SPAN inputs of one input row (texel offset `row` of its first column); zero where the tap is not real.
void load_span(int row, bool row_real, int cols[SPAN], bool real[SPAN], out float v[SPAN])
{
#if VEC4_LOADS && !RIM
    // The first texel starts VEC4_SHIFT floats before the segment, in the same row (the segment starts at x >= shift);
    // the last ends at most at the row's end (rows are whole vec4s).
    int t0 = (row + cols[0] - VEC4_SHIFT) >> 2;
    for (int q = 0; q < (SPAN + VEC4_SHIFT + 3) / 4; q++)
    {
        vec4 t = imageLoad(u_input4, t0 + q);
        for (int e = 0; e < 4; e++)
        {
            int s = 4 * q + e - VEC4_SHIFT;
            if (s >= 0 && s < SPAN) v[s] = t[e];
        }
    }
#else
    for (int s = 0; s < SPAN; s++)
    {
        float x = imageLoad(u_input, row + cols[s]).r;
#if RIM && BORDER == BORDER_ZERO
        x = (row_real && real[s]) ? x : 0.0;
#endif
        v[s] = x;
    }
#endif
}

#endif
