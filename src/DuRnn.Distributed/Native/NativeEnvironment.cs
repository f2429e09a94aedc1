using System;
using System.Runtime.InteropServices;
using System.Text;

namespace DuRnn.Distributed.Native
{
    /// <summary>
    /// Sets variables in the process's native environment (C's <c>setenv</c>), which native libraries read with
    /// <c>getenv</c>; .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> changes only the managed copy
    /// on Unix. Used for settings that must be in place before the MPI library is loaded.
    /// </summary>
    internal static class NativeEnvironment
    {
        /// <summary>
        /// The settings applied before MPI is loaded, unless the user has set the variable: <c>UCX_ERROR_SIGNALS</c>
        /// empty, so that UCX (which MPICH on Debian links, and Open MPI's UCX components load on InfiniBand machines)
        /// does not install its SIGSEGV handler over .NET's: with it, a NullReferenceException — which .NET raises from
        /// SIGSEGV — ended the process with UCX's backtrace instead of being thrown (measured with MPICH 4.0.2).
        /// </summary>
        public static void PrepareForMpi() => SetDefault("UCX_ERROR_SIGNALS", "");

        /// <summary>Sets <paramref name="name"/> to <paramref name="value"/> unless it is set already (managed or native).</summary>
        private static unsafe void SetDefault(string name, string value)
        {
            if (Environment.GetEnvironmentVariable(name) is not null) return;
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD()) return;
            if (!NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "setenv", out var address)) return;
            var setenv = (delegate* unmanaged<byte*, byte*, int, int>)address;
            fixed (byte* n = CString(name))
            fixed (byte* v = CString(value))
                setenv(n, v, 0);
            Environment.SetEnvironmentVariable(name, value.Length == 0 ? null : value);
        }

        private static byte[] CString(string text) => Encoding.UTF8.GetBytes(text + "\0");
    }
}
