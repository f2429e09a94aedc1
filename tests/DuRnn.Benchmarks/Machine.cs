using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
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

        /// <summary>The CPU flags that matter for the BLAS and the vectorised kernels, in the order a report lists them.</summary>
        public static readonly IReadOnlyList<string> FlagsThatMatter =
            new[] { "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx" };

        /// <summary>
        /// Each of <see cref="FlagsThatMatter"/> with "yes" or "no", from the first "flags" line of /proc/cpuinfo
        /// ("amx" stands for any amx_* flag, listed when present); "flags unknown" where the file cannot be read.
        /// </summary>
        public static string CpuFlags()
        {
            HashSet<string> flags;
            try
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
                if (line is null) return "flags unknown";
                flags = line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            }
            catch (IOException) { return "flags unknown"; }
            catch (UnauthorizedAccessException) { return "flags unknown"; }
            return string.Join(", ", FlagsThatMatter.Select(f =>
            {
                if (f != "amx") return $"{f} {(flags.Contains(f) ? "yes" : "no")}";
                var amx = flags.Where(x => x.StartsWith("amx", StringComparison.Ordinal)).OrderBy(x => x, StringComparer.Ordinal).ToList();
                return amx.Count == 0 ? "amx no" : $"amx yes ({string.Join(" ", amx)})";
            }));
        }

        /// <summary>TorchSharp's version (its assembly's).</summary>
        public static string TorchSharpVersion() => typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "unknown";

        /// <summary>
        /// The LibTorch bundle's version, read from this program's .deps.json (the libtorch-cpu package TorchSharp-cpu
        /// brought in), or "unknown".
        /// </summary>
        public static string LibTorchVersion()
        {
            try
            {
                string name = Assembly.GetEntryAssembly()?.GetName().Name ?? "DuRnn.Benchmarks";
                string deps = Path.Combine(AppContext.BaseDirectory, name + ".deps.json");
                if (!File.Exists(deps)) return "unknown";
                var m = Regex.Match(File.ReadAllText(deps), "\"libtorch-cpu(?:-[a-z0-9-]+)?/(\\d+(?:\\.\\d+)+)\"");
                return m.Success ? m.Groups[1].Value : "unknown";
            }
            catch (IOException) { return "unknown"; }
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
            return $"{Environment.ProcessorCount} cores, CPU \"{CpuModel()}\", torch.get_num_threads() = {torch.get_num_threads()}, " +
                   $"{RuntimeInformation.FrameworkDescription}, TorchSharp {TorchSharpVersion()} (LibTorch {LibTorchVersion()} CPU), {RuntimeInformation.OSDescription}; {OpenMp.Describe()}";
        }
    }
}
