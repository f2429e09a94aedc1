using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// Peak native memory of a training step. The GC does not see tensor memory, so the measure is the process's
    /// resident set: each model runs in a fresh child process of this executable (<c>--memory MODEL</c>), so the
    /// high-water mark (VmHWM in /proc/self/status) belongs to that model alone.
    /// </summary>
    internal static class MemoryProbe
    {
        /// <summary>The memory case: training at T = 5000, B = 32, H = 128, 2 layers.</summary>
        public const long T = 5000, B = 32, H = 128, Layers = 2;

        private const string Tag = "MEMORY-RESULT";

        /// <summary>The models of the memory case.</summary>
        public static IReadOnlyList<ModelSpec> Models => new[] { ModelSpec.DuRnnFast, ModelSpec.Lstm };

        /// <summary>
        /// Child side: builds the model and its input, records VmRSS, resets the high-water mark
        /// (<c>echo 5 &gt; /proc/self/clear_refs</c>), runs one training step, records VmHWM, prints one result line.
        /// </summary>
        /// <param name="spec">The model.</param>
        /// <param name="t">T (<see cref="T"/> unless a smaller one is asked for, e.g. by --smoke).</param>
        public static int RunChild(ModelSpec spec, long t = T)
        {
            Machine.ConfigureTorch();
            using var workload = new Workload(spec, t, B, H, Layers);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long baseline = StatusKb("VmRSS");
            bool reset = TryResetPeak();
            var sw = Stopwatch.StartNew();
            workload.TrainStep();
            double step = sw.Elapsed.TotalMilliseconds;
            long peak = StatusKb("VmHWM");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Tag} model={spec.Key} layers={Layers} T={t} B={B} H={H} baseline_kb={baseline} peak_kb={peak} reset={reset} step_ms={step:F1}"));
            return 0;
        }

        /// <summary>Parent side: runs one child per model, one after the other, and parses their result lines.</summary>
        /// <param name="models">The models, one child each.</param>
        /// <param name="progress">Where progress lines go.</param>
        /// <param name="t">T (<see cref="T"/> unless a smaller one is asked for, e.g. by --smoke).</param>
        public static List<MemoryResult> Measure(IEnumerable<ModelSpec> models, TextWriter progress, long t = T)
        {
            var results = new List<MemoryResult>();
            foreach (var spec in models)
            {
                progress.WriteLine($"memory: {spec.Label}, training, {Layers} layers, T={t}, B={B}, H={H} (child process)...");
                var kv = ChildProcess.Run(new[] { "--memory", spec.Key, t.ToString(CultureInfo.InvariantCulture) }, Tag);
                double Num(string k) => double.Parse(kv[k], CultureInfo.InvariantCulture);
                var r = new MemoryResult(spec, (long)Num("layers"), (long)Num("T"), (long)Num("B"), (long)Num("H"),
                    Num("baseline_kb") / 1024, Num("peak_kb") / 1024, bool.Parse(kv["reset"]), Num("step_ms"));
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  before {r.BaselineMb:F0} MB, peak {r.PeakMb:F0} MB, increase {r.IncreaseMb:F0} MB"));
                results.Add(r);
            }
            return results;
        }

        /// <summary>A "kB" field of /proc/self/status (VmRSS, VmHWM).</summary>
        private static long StatusKb(string field)
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
                var number = line[(field.Length + 1)..].Trim().Split(' ')[0];
                return long.Parse(number, CultureInfo.InvariantCulture);
            }
            throw new InvalidOperationException($"/proc/self/status has no {field} (Linux only)");
        }

        /// <summary>Resets VmHWM to the current VmRSS (Linux ≥ 4.0: write 5 to /proc/self/clear_refs).</summary>
        private static bool TryResetPeak()
        {
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                return true;
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }
    }
}
