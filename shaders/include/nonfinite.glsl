// NaN and +infinity as bit patterns, for the shaders that must produce them (the reference's results where GLSL leaves
// a case undefined). Not 0.0 / 0.0 or 1.0 / 0.0: NVIDIA's compiler folds those to 0 (seen on an H200, driver 580.159);
// ShaderLibraryTests.NoShader_DividesAConstantByZero keeps such divisions out of every shader.
#ifndef CONVGL_NONFINITE_GLSL
#define CONVGL_NONFINITE_GLSL

const float NAN_F = uintBitsToFloat(0x7FC00000u);
const float INF_F = uintBitsToFloat(0x7F800000u);

#endif
