namespace ConvGL.Core;

/// <summary>Bad input from the user (a file, a name, a shape, an option): the message is one line that says
/// what was wrong and, where it can, the fix. The command line maps it to exit code 2.</summary>
public class ConvGLException(string message, Exception? inner = null) : Exception(message, inner);
