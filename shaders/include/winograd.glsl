// Winograd F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015): a 4x4 block of a 3x3
// correlation's outputs from a 6x6 tile d of its (padded) input as
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A
//
// with the interpolation points 0, +-1, +-2 and infinity. (.) is the element-wise product over the tile's 36 positions;
// summed over input channels it is 36 independent matrix products (winograd_gemm.comp). G g G^T, the weight transform,
// is computed once per weight set on the CPU in double (WinogradPlan). Per output it does 36/16 = 2.25 multiply-adds per
// (input channel, output channel) instead of 9. The float32 error stays below the parity tests' bound (|error| <= 1e-5 +
// 1e-4 |ref|) for sums over up to 512 input channels with PyTorch-scaled weights (checked in NumPy and by the tests).
//
// The transforms below act on 6 (or 4) vec4s at once; each vec4 holds 4 tiles (winograd_input/output.comp).
#ifndef CONVGL_WINOGRAD_GLSL
#define CONVGL_WINOGRAD_GLSL

//        [ 4  0 -5  0  1  0 ]
//        [ 0 -4 -4  1  1  0 ]
// B^T =  [ 0  4 -4 -1  1  0 ]
//        [ 0 -2 -1  2  1  0 ]
//        [ 0  2 -1 -2  1  0 ]
//        [ 0  4  0 -5  0  1 ]
void winograd_bt(in vec4 x[6], out vec4 y[6])
{
    y[0] = 4.0 * x[0] - 5.0 * x[2] + x[4];
    y[1] = x[3] + x[4] - 4.0 * (x[1] + x[2]);
    y[2] = x[4] - x[3] + 4.0 * (x[1] - x[2]);
    y[3] = x[4] - x[2] + 2.0 * (x[3] - x[1]);
    y[4] = x[4] - x[2] + 2.0 * (x[1] - x[3]);
    y[5] = 4.0 * x[1] - 5.0 * x[3] + x[5];
}

//        [ 1  1  1  1  1  0 ]
// A^T =  [ 0  1 -1  2 -2  0 ]
//        [ 0  1  1  4  4  0 ]
//        [ 0  1 -1  8 -8  1 ]
void winograd_at(in vec4 x[6], out vec4 y[4])
{
    vec4 s12 = x[1] + x[2], d12 = x[1] - x[2], s34 = x[3] + x[4], d34 = x[3] - x[4];
    y[0] = x[0] + s12 + s34;
    y[1] = d12 + 2.0 * d34;
    y[2] = s12 + 4.0 * s34;
    y[3] = d12 + 8.0 * d34 + x[5];
}

#endif
