#version 430
// A packaged model's image preprocessing (ImagePreprocess.Apply in src/ConvGL.Core/Onnx/ImagePreprocess.cs):
// the source image (3, h, w), RGB in [0, 1], resized to the model's (H, W) with the aspect kept and the
// overhang cropped from the middle (bilinear, half-pixel centres, clamped to the edge), each value times
// u_pixel_scale, channels reordered (output c reads source channel u_order[c]), minus the mean image. A gray model's
// (u_channels 1): the source is its gray (1, h, w), the one output channel reads it.

layout(local_size_x = 16, local_size_y = 16, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { float in_data[]; };
layout(std430, binding = 1) readonly buffer Mean { float mean[]; };     // (u_channels, H, W)
layout(std430, binding = 3) writeonly buffer Output { float out_data[]; };

uniform int u_in_h;
uniform int u_in_w;
uniform int u_out_h;
uniform int u_out_w;
uniform float u_top;         // the crop's top and left in source pixels
uniform float u_left;
uniform float u_inv_scale;   // source pixels per output pixel
uniform float u_pixel_scale;
uniform int u_channels;      // 3, or 1 for gray
uniform ivec3 u_order;

float at(int c, int y, int x) { return in_data[(c * u_in_h + y) * u_in_w + x]; }

void main()
{
    int x = int(gl_GlobalInvocationID.x), y = int(gl_GlobalInvocationID.y);
    if (x >= u_out_w || y >= u_out_h) return;
    float fy = clamp(u_top + (float(y) + 0.5) * u_inv_scale - 0.5, 0.0, float(u_in_h - 1));
    float fx = clamp(u_left + (float(x) + 0.5) * u_inv_scale - 0.5, 0.0, float(u_in_w - 1));
    int y0 = int(fy), x0 = int(fx);
    int y1 = min(y0 + 1, u_in_h - 1), x1 = min(x0 + 1, u_in_w - 1);
    float ty = fy - float(y0), tx = fx - float(x0);
    int plane = u_out_h * u_out_w;
    for (int c = 0; c < u_channels; c++)
    {
        int s = u_order[c];
        float v = mix(mix(at(s, y0, x0), at(s, y0, x1), tx), mix(at(s, y1, x0), at(s, y1, x1), tx), ty);
        int o = c * plane + y * u_out_w + x;
        out_data[o] = u_pixel_scale * v - mean[o];
    }
}
