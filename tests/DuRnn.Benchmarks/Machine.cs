using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using TorchSharp;

namespace DuRnn.Benchmarks
{
    /// <summary>What the numbers were measured on.</summary>
    internal static class Machine
    {
        /// <summary>The number of threads every measurement uses: torch.set_num_threads(Threads).</summary>
        public const int Threads = 2;

        /// <summary>Sets torch's intra-op thread count to <see cref="Threads"/>.</summary>
        public static void ConfigureTorch() => torch.set_num_threads(Threads);

        /// <summary>The CPU model from /proc/cpuinfo ("model name"), or the architecture where that is missing.</summary>
        public static string CpuModel()
        {
            try
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return RuntimeInformation.ProcessArchitecture.ToString();
        }

        /// <summary>/proc/loadavg's 1, 5 and 15 minute load averages, or "n/a".</summary>
        public static string LoadAverage()
        {
            try
            {
                var parts = File.ReadAllText("/proc/loadavg").Split(' ');
                return string.Join(" ", parts.Take(3));
            }
            catch (IOException) { return "n/a"; }
            catch (UnauthorizedAccessException) { return "n/a"; }
        }

        /// <summary>One line: cores, CPU, torch threads, .NET, TorchSharp, OS.</summary>
        public static string Describe()
        {
            var torchSharp = typeof(torch).Assembly.GetName().Version;
            return $"{Environment.ProcessorCount} cores, CPU \"{CpuModel()}\", torch.get_num_threads() = {torch.get_num_threads()}, " +
                   $"{RuntimeInformation.FrameworkDescription}, TorchSharp {torchSharp?.ToString(3)}, {RuntimeInformation.OSDescription}; {OpenMp.Describe()}";
        }
    }
}
