using System;
using System.Runtime.InteropServices;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// LibTorch's CPU kernels run on GNU OpenMP (libgomp), whose idle threads spin by default. On a machine shared
    /// with other busy processes, a spinning thread waits on a partner that is not scheduled, and a training step
    /// measured here took 2–10 times longer, varying from run to run. With OMP_WAIT_POLICY=PASSIVE idle threads
    /// sleep instead, and the times are stable. libgomp reads the variable once, when LibTorch is loaded, so it
    /// is set in the native environment before the first torch call (and in the managed one, for child processes).
    /// </summary>
    internal static class OpenMp
    {
        public const string Variable = "OMP_WAIT_POLICY";

        /// <summary>The policy in force, and whether this program set it.</summary>
        public static string Describe() =>
            $"{Variable}={Environment.GetEnvironmentVariable(Variable) ?? "(unset: libgomp default, active spinning)"}" +
            (setHere ? " (set by this program; --omp-active to keep the default)" : "");

        private static bool setHere;

        /// <summary>True when --omp-active was given (passed on to child processes).</summary>
        public static bool KeepDefault { get; private set; }

        /// <summary>Sets OMP_WAIT_POLICY=PASSIVE unless the variable is already set or <paramref name="keepDefault"/>.</summary>
        public static void Configure(bool keepDefault)
        {
            KeepDefault = keepDefault;
            if (keepDefault || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable))) return;
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
                _ = setenv(Variable, "PASSIVE", 0);
            Environment.SetEnvironmentVariable(Variable, "PASSIVE");
            setHere = true;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int setenv([MarshalAs(UnmanagedType.LPStr)] string name, [MarshalAs(UnmanagedType.LPStr)] string value, int overwrite);
    }
}
