using System;
using System.Diagnostics;

namespace DuRnn.Samples
{
    /// <summary>Which time a training budget counts.</summary>
    internal enum BudgetClock
    {
        /// <summary>Wall-clock time of the training steps.</summary>
        Wall,

        /// <summary>
        /// CPU time the process spent during the training steps (all its threads): on a machine shared with other work
        /// it counts the work done, not the time spent waiting for a core, so runs made side by side get equal budgets.
        /// With one torch thread on a quiet machine it equals the wall-clock time.
        /// </summary>
        Cpu,
    }

    /// <summary>
    /// Training time of the samples (this file is linked into each): wall-clock and process CPU time, counted only
    /// between <see cref="Start"/> and <see cref="Stop"/> (the training steps; evaluations and checkpoints excluded),
    /// continuing from the totals a resumed run had.
    /// </summary>
    internal sealed class TrainingClock
    {
        private readonly Process process = Process.GetCurrentProcess();
        private readonly Stopwatch wall = new();
        private readonly double wallBefore, cpuBefore;
        private TimeSpan cpuAtStart, cpuCounted;

        /// <summary>Creates a stopped clock that starts from the totals of an earlier run (0 for a new one).</summary>
        public TrainingClock(double wallSecondsBefore = 0, double cpuSecondsBefore = 0)
        {
            wallBefore = wallSecondsBefore;
            cpuBefore = cpuSecondsBefore;
        }

        /// <summary>Starts counting (before a training step).</summary>
        public void Start()
        {
            process.Refresh();
            cpuAtStart = process.TotalProcessorTime;
            wall.Start();
        }

        /// <summary>Stops counting (after a training step).</summary>
        public void Stop()
        {
            wall.Stop();
            process.Refresh();
            cpuCounted += process.TotalProcessorTime - cpuAtStart;
        }

        /// <summary>Wall-clock seconds of training so far.</summary>
        public double WallSeconds => wallBefore + wall.Elapsed.TotalSeconds;

        /// <summary>CPU seconds of training so far.</summary>
        public double CpuSeconds => cpuBefore + cpuCounted.TotalSeconds;

        /// <summary>The seconds a budget on <paramref name="clock"/> counts.</summary>
        public double Seconds(BudgetClock clock) => clock == BudgetClock.Cpu ? CpuSeconds : WallSeconds;
    }
}
