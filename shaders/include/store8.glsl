// Eight floats as one 32-byte store (U64_STORES; the shader enables GL_ARB_gpu_shader_int64 right after #version).
// On llvmpipe a storage store with a per-lane address is a loop over the 8 SIMD lanes with a bounds check and a scalar
// store per component, so a u64vec4 (4 components of 8 bytes) writes 8 floats for the work a vec4 spends on 4: in a
// probe, 8 MB written as u64vec4s took 0.97-0.99 ms, as vec4s 1.34-1.35 ms (bench/README.md, "32-byte stores").
// The floats' bits are moved as integers (packUint2x32): no float operation touches them, so NaN payloads, infinities
// and denormals are stored exactly. The u64vec4 index is the float index / 8: callers store only 8-aligned runs.
#ifndef CONVGL_STORE8_GLSL
#define CONVGL_STORE8_GLSL

uint64_t pack_pair(float lo, float hi) { return packUint2x32(uvec2(floatBitsToUint(lo), floatBitsToUint(hi))); }

u64vec4 pack8(vec4 a, vec4 b)
{
    return u64vec4(pack_pair(a.x, a.y), pack_pair(a.z, a.w), pack_pair(b.x, b.y), pack_pair(b.z, b.w));
}

#endif
