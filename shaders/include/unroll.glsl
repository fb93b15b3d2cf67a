// UNROLL_32(M) expands to M(0) M(1) ... M(31): a loop body written as a macro (or a function called by one) runs with a
// literal index, so everything it addresses with the index is a compile-time constant. Mesa unrolls a GLSL loop only
// while its body is small; in a loop that stays a loop, an index-derived uniform-block address is no longer provably the
// same in every lane, and llvmpipe then gathers it lane by lane (the measured reason the fast filters unroll this way).
// Guard the body with `if ((i) < N)`: the dead calls fold away at compile time.
#ifndef CONVGL_UNROLL_GLSL
#define CONVGL_UNROLL_GLSL

#define UNROLL_8_FROM(M, b) M(b) M(b + 1) M(b + 2) M(b + 3) M(b + 4) M(b + 5) M(b + 6) M(b + 7)
#define UNROLL_32(M) UNROLL_8_FROM(M, 0) UNROLL_8_FROM(M, 8) UNROLL_8_FROM(M, 16) UNROLL_8_FROM(M, 24)

#endif
