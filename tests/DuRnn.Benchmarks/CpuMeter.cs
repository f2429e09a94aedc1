using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// How much CPU other processes took while a measurement ran: the machine's busy time (/proc/stat) minus this
    /// process's own and that of its child processes once they have ended (/proc/self/stat: the harness's memory and
    /// separate-process children are its own work, not load), per second of wall time, in cores. The load average cannot say this: it counts
    /// the benchmark's own threads, and its one-minute window lags behind. 0.0 means the machine was ours alone;
    /// on 2 cores, 1.0 means another process held a whole core.
    /// </summary>
    internal sealed class CpuMeter
    {
        /// <summary>Above this many cores taken by others on average, a run is flagged as measured under load.</summary>
        public const double BusyCores = 0.15;

        private readonly long _machineStart, _selfStart;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

        /// <summary>Starts measuring.</summary>
        public CpuMeter()
        {
            _machineStart = MachineBusyTicks();
            _selfStart = SelfTicks();
        }

        /// <summary>True where /proc/stat and /proc/self/stat can be read (Linux).</summary>
        public static bool IsAvailable => File.Exists("/proc/stat") && File.Exists("/proc/self/stat");

        /// <summary>The average number of cores other processes used since the meter started (NaN off Linux).</summary>
        public double OtherCores()
        {
            if (!IsAvailable) return double.NaN;
            double seconds = _clock.Elapsed.TotalSeconds;
            if (seconds <= 0) return 0;
            long machine = MachineBusyTicks() - _machineStart, self = SelfTicks() - _selfStart;
            return Math.Max(0, (machine - self) / TicksPerSecond / seconds);
        }

        /// <summary>One line for a report: others' cores and the load averages.</summary>
        public string Describe(string loadBefore) => string.Create(CultureInfo.InvariantCulture,
            $"other processes used {OtherCores():F2} cores on average (flagged above {BusyCores:F2}); load average before {loadBefore}, after {Machine.LoadAverage()}");

        /// <summary>True when others took more than <see cref="BusyCores"/> on average.</summary>
        public bool WasBusy() => OtherCores() is double c && !double.IsNaN(c) && c > BusyCores;

        /// <summary>user + nice + system + irq + softirq + steal of the "cpu" line of /proc/stat.</summary>
        private static long MachineBusyTicks()
        {
            if (!IsAvailable) return 0;
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long F(int i) => fields.Length > i ? long.Parse(fields[i], CultureInfo.InvariantCulture) : 0;
            return F(1) + F(2) + F(3) + F(6) + F(7) + F(8);
        }

        /// <summary>
        /// utime + stime of this process and cutime + cstime of its children that have ended and been waited for
        /// (fields 14 to 17 of /proc/self/stat).
        /// </summary>
        private static long SelfTicks()
        {
            if (!IsAvailable) return 0;
            string stat = File.ReadAllText("/proc/self/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count from the closing one.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long F(int i) => long.Parse(rest[i], CultureInfo.InvariantCulture);
            return F(11) + F(12) + F(13) + F(14);
        }
    }
}
