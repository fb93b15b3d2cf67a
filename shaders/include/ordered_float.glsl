// Floats as uints whose unsigned order is the float order, so atomicMin/atomicMax on uint (all GLSL
// has) can reduce floats. Positive floats get the sign bit set; negative ones are bit-inverted.
// The C# side (Present/TensorToImage.cs, OrderedFloat) uses the same mapping.
#ifndef CONVGL_ORDERED_FLOAT_GLSL
#define CONVGL_ORDERED_FLOAT_GLSL

uint float_to_ordered(float f)
{
    uint u = floatBitsToUint(f);
    return (u & 0x80000000u) != 0u ? ~u : (u | 0x80000000u);
}

float ordered_to_float(uint o)
{
    return (o & 0x80000000u) != 0u ? uintBitsToFloat(o & 0x7FFFFFFFu) : uintBitsToFloat(~o);
}

#endif
