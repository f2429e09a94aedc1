using System;
using System.Collections.Generic;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>A row's figure in one run.</summary>
    /// <param name="Value">The figure: the median of the round ratios, a share of the GEMM bound, or a memory ratio.</param>
    /// <param name="Ratios">For an interleaved ratio: the ratio of every round.</param>
    /// <param name="A">DuRNN's median (ms per run, per call for streaming; MB for memory).</param>
    /// <param name="B">The baseline's median, same unit (null for a roofline row).</param>
    /// <param name="BoundMs">For a roofline row: the time the GEMMs alone would take at the rates measured in that run.</param>
    /// <param name="Detail">One line about the run (roofline rates, memory figures), or null.</param>
    internal sealed record RowRun(double Value, double[]? Ratios, double A, double? B, double? BoundMs, string? Detail);

    /// <summary>A row's figures over all runs, its separate-process figure, and what they say about the target.</summary>
    internal sealed class RowResult
    {
        /// <summary>The largest relative difference between the interleaved and the separate-process figure that still counts as agreeing.</summary>
        public const double AgreeWithin = 0.15;

        /// <summary>Creates an empty result for <paramref name="row"/> over <paramref name="runs"/> runs.</summary>
        public RowResult(TargetRow row, int runs)
        {
            Row = row;
            Runs = new RowRun?[runs];
        }

        /// <summary>The row.</summary>
        public TargetRow Row { get; }

        /// <summary>The figure of every run (null where the row was not measured).</summary>
        public RowRun?[] Runs { get; }

        /// <summary>The separate-process figure, or null when not measured.</summary>
        public double? Separate { get; set; }

        /// <summary>DuRNN's and the baseline's separate-process medians (the median of the child medians), or null.</summary>
        public (double a, double? b)? SeparateMedians { get; set; }

        private IEnumerable<double> Values => Runs.Where(r => r is not null).Select(r => r!.Value);

        /// <summary>Whether any run measured the row.</summary>
        public bool Measured => Values.Any();

        /// <summary>The median of the runs' figures (NaN when none).</summary>
        public double Median => Measured ? Quick.Median(Values.ToList()) : double.NaN;

        /// <summary>The worst run's figure: the largest for lower-is-better rows, the smallest for higher-is-better ones.</summary>
        public double Worst => Measured ? Values.Aggregate((x, y) => Bound.Worse(Row.Direction, x, y)) : double.NaN;

        /// <summary>The median over runs of DuRNN's medians.</summary>
        public double MedianA => Quick.Median(Runs.Where(r => r is not null).Select(r => r!.A).ToList());

        /// <summary>The median over runs of the baseline's medians (null when the row has none).</summary>
        public double? MedianB
        {
            get
            {
                var b = Runs.Where(r => r?.B is not null).Select(r => r!.B!.Value).ToList();
                return b.Count == 0 ? null : Quick.Median(b);
            }
        }

        /// <summary>The median over runs of the GEMM time bound (roofline rows), or null.</summary>
        public double? MedianBoundMs
        {
            get
            {
                var b = Runs.Where(r => r?.BoundMs is not null).Select(r => r!.BoundMs!.Value).ToList();
                return b.Count == 0 ? null : Quick.Median(b);
            }
        }

        /// <summary>interleaved median / separate − 1, or null without a separate-process figure.</summary>
        public double? Difference => Separate is double s && Measured && s > 0 ? Median / s - 1 : null;

        /// <summary>Whether the two ways of measuring agree within <see cref="AgreeWithin"/>, or null.</summary>
        public bool? Agree => Difference is double d ? Math.Abs(d) <= AgreeWithin : null;

        /// <summary>Whether the worst run meets the bound; null for rows without a bound or not measured.</summary>
        public bool? Met => Row.Bound is { } b && Measured ? b.Meets(Worst) : null;
    }

    /// <summary>The CPU that other processes took during one phase of the run.</summary>
    /// <param name="Phase">"run 1", "separate processes", …</param>
    /// <param name="OtherCores">Cores taken by others on average (<see cref="CpuMeter.OtherCores"/>).</param>
    /// <param name="Description">The meter's line (cores and load averages).</param>
    internal sealed record PhaseLoad(string Phase, double OtherCores, string Description)
    {
        /// <summary>Whether others took more than <see cref="CpuMeter.BusyCores"/>.</summary>
        public bool Busy => !double.IsNaN(OtherCores) && OtherCores > CpuMeter.BusyCores;
    }

    /// <summary>Everything a <c>--targets</c> run measured, for the report.</summary>
    internal sealed class TargetRunResult
    {
        /// <summary>Creates the result holder.</summary>
        public TargetRunResult(TargetSettings settings, TargetPlan plan, GitState git, DateTime startedUtc)
        {
            Settings = settings;
            Plan = plan;
            Git = git;
            StartedUtc = startedUtc;
            Rows = plan.Rows.Select(r => new RowResult(r, settings.Runs)).ToArray();
        }

        /// <summary>How the run was done.</summary>
        public TargetSettings Settings { get; }

        /// <summary>The rows and groups.</summary>
        public TargetPlan Plan { get; }

        /// <summary>The code measured.</summary>
        public GitState Git { get; }

        /// <summary>When the run started (UTC).</summary>
        public DateTime StartedUtc { get; }

        /// <summary>How long it took.</summary>
        public TimeSpan Duration { get; set; }

        /// <summary>One result per row of the plan, same order.</summary>
        public IReadOnlyList<RowResult> Rows { get; }

        /// <summary>The load during every phase.</summary>
        public List<PhaseLoad> Loads { get; } = new();

        /// <summary>Per run, the memory children's results (empty without the memory case).</summary>
        public List<IReadOnlyList<MemoryResult>> Memory { get; } = new();

        /// <summary>Whether any phase was flagged as busy.</summary>
        public bool Busy => Loads.Any(l => l.Busy);

        /// <summary>Whether every row with a bound was measured and its worst run meets it.</summary>
        public bool AllMet => Rows.Where(r => r.Row.Bound is not null).All(r => r.Met == true);
    }
}
