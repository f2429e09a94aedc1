using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace DuRnn.Benchmarks
{
    /// <summary>Which way a figure is better.</summary>
    internal enum Better
    {
        /// <summary>Lower is better: a ratio of times or of memory (bound ≤, the worst run is the largest).</summary>
        Lower,

        /// <summary>Higher is better: a share of the GEMM time bound (bound ≥, the worst run is the smallest).</summary>
        Higher,
    }

    /// <summary>A target's bound: the value and which side of it meets it.</summary>
    internal sealed record Bound(double Value, Better Direction)
    {
        /// <summary>Whether <paramref name="x"/> meets the bound.</summary>
        public bool Meets(double x) => Direction == Better.Lower ? x <= Value : x >= Value;

        /// <summary>The worse of two figures.</summary>
        public static double Worse(Better direction, double a, double b) => direction == Better.Lower ? Math.Max(a, b) : Math.Min(a, b);
    }

    /// <summary>How a row's figure is obtained.</summary>
    internal enum RowKind
    {
        /// <summary>The median of the round ratios of cell 0 (DuRNN) to cell <see cref="TargetRow.Baseline"/> of its group.</summary>
        Ratio,

        /// <summary>DuRNN's share of the GEMM time bound (<see cref="Roofline"/>), from cell 0's runs of its group.</summary>
        Roofline,

        /// <summary>Peak memory of a training step, DuRNN / nn.LSTM, from child processes (<see cref="MemoryProbe"/>).</summary>
        Memory,
    }

    /// <summary>One row of the targets' table.</summary>
    /// <param name="Name">What is compared.</param>
    /// <param name="Cell">The configuration.</param>
    /// <param name="Bound">The target; null for rows reported without one.</param>
    /// <param name="Kind">How the figure is obtained.</param>
    /// <param name="Group">The index of the <see cref="TargetGroup"/> it is measured in (−1 for the memory row).</param>
    /// <param name="Baseline">For a ratio: the index of the baseline cell in the group.</param>
    internal sealed record TargetRow(string Name, string Cell, Bound? Bound, RowKind Kind, int Group, int Baseline = 1)
    {
        /// <summary>Which way the figure is better.</summary>
        public Better Direction => Bound?.Direction ?? (Kind == RowKind.Roofline ? Better.Higher : Better.Lower);

        /// <summary>A figure as the table shows it: a ratio with two decimals, a share in percent.</summary>
        public string Format(double value) => Kind == RowKind.Roofline
            ? (100 * value).ToString("F0", CultureInfo.InvariantCulture) + " %"
            : value.ToString("F2", CultureInfo.InvariantCulture);

        /// <summary>The bound as the table shows it ("≤ 0.45", "≥ 50 %", "–").</summary>
        public string BoundText => Bound is null ? "–" : (Bound.Direction == Better.Lower ? "≤ " : "≥ ") + Format(Bound.Value);

        /// <summary>The bound for the CSV file ("&lt;=0.45", "&gt;=0.5", empty).</summary>
        public string BoundCsv => Bound is null ? "" : (Bound.Direction == Better.Lower ? "<=" : ">=") + Bound.Value.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Cells timed together, interleaved: cell 0 is DuRNN, the others its baselines (or, for the threads row, the same
    /// model on one thread). <see cref="Roofline"/>: the group also yields a roofline row (1-layer sequence cells).
    /// </summary>
    internal sealed record TargetGroup(string Title, IReadOnlyList<CellSpec> Cells, bool Roofline = false);

    /// <summary>The rows of the targets and the groups that measure them, in the order the report lists them.</summary>
    internal sealed record TargetPlan(IReadOnlyList<TargetGroup> Groups, IReadOnlyList<TargetRow> Rows)
    {
        /// <summary>1-layer and 2-layer rows: B = 32, H = S = 128, I = 8.</summary>
        public const long B = 32, H = 128;

        /// <summary>fwd+bwd DuRNN / nn.LSTM at 1 layer.</summary>
        public const double TrainingBound = 0.45;

        /// <summary>Inference DuRNN / nn.LSTM at 1 layer.</summary>
        public const double InferenceBound = 0.5;

        /// <summary>DuRNN's share of the GEMM time bound, fwd+bwd.</summary>
        public const double RooflineTrainingBound = 0.5;

        /// <summary>DuRNN's share of the GEMM time bound, inference.</summary>
        public const double RooflineInferenceBound = 0.6;

        /// <summary>The 2-layer training step at T = 5000, DuRNN / nn.LSTM.</summary>
        public const double StackBound = 0.6;

        /// <summary>Its peak memory, DuRNN / nn.LSTM.</summary>
        public const double MemoryBound = 0.5;

        /// <summary>The 2-layer stack at T = 2000 on 2 threads / on 1 thread.</summary>
        public const double ThreadsBound = 0.65;

        /// <summary>Streaming per call, DuRNN / nn.LSTM.</summary>
        public const double StreamingBound = 0.5;

        /// <summary>The trained configurations (Fashion-MNIST, language model), DuRNN / nn.LSTM, training step and inference.</summary>
        public const double UserModelBound = 0.5;

        /// <summary>The user configurations run on one torch thread.</summary>
        public const int UserThreads = 1;

        /// <summary>Fashion-MNIST: DuRNN 2×128, nn.LSTM 2×104, nn.GRU 2×120 (the sample's parameter-matched sizes), B = 128.</summary>
        public const long FashionDuRnn = 128, FashionLstm = 104, FashionGru = 120, FashionBatch = 128;

        /// <summary>Language model: DuRNN 2×256, nn.LSTM 2×206, nn.GRU 2×238 (the sample's parameter-matched sizes), B = 32.</summary>
        public const long CharDuRnn = 256, CharLstm = 206, CharGru = 238, CharBatch = 32;

        /// <summary>Builds the plan for <paramref name="s"/>'s sizes.</summary>
        public static TargetPlan Build(TargetSettings s)
        {
            var groups = new List<TargetGroup>();
            int Add(TargetGroup g)
            {
                groups.Add(g);
                return groups.Count - 1;
            }
            CellSpec Seq(ModelSpec m, BenchMode mode, long t, long layers = 1, int threads = Machine.Threads) =>
                new(TaskKind.Sequence, m, mode, t, B, Workload.InputSize, H, layers, threads);

            var training = new List<TargetRow>();
            var inference = new List<TargetRow>();
            var rooflineTraining = new List<TargetRow>();
            var rooflineInference = new List<TargetRow>();
            foreach (var mode in new[] { BenchMode.Training, BenchMode.Inference })
            {
                foreach (long t in s.Lengths)
                {
                    int g = Add(new TargetGroup($"{Report.ModeLabel(mode)}, 1 layer, T={t}",
                        new[] { Seq(ModelSpec.DuRnnFast, mode, t), Seq(ModelSpec.Lstm, mode, t) }, Roofline: true));
                    string cell = $"T={t}";
                    bool train = mode == BenchMode.Training;
                    (train ? training : inference).Add(new TargetRow($"{Report.ModeLabel(mode)} DuRNN / nn.LSTM", cell,
                        new Bound(train ? TrainingBound : InferenceBound, Better.Lower), RowKind.Ratio, g));
                    (train ? rooflineTraining : rooflineInference).Add(new TargetRow(
                        $"roofline: DuRNN's share of the GEMM time bound, {Report.ModeLabel(mode)}", cell,
                        new Bound(train ? RooflineTrainingBound : RooflineInferenceBound, Better.Higher), RowKind.Roofline, g));
                }
            }

            long tt = s.ThreadsLength;
            int threads = Add(new TargetGroup($"2 layers, T={tt}, 2 threads / 1 thread", new[]
            {
                Seq(ModelSpec.DuRnnFast, BenchMode.Training, tt, layers: 2, threads: 2),
                Seq(ModelSpec.DuRnnFast, BenchMode.Training, tt, layers: 2, threads: 1),
            }));
            long ts = s.StackLength;
            int stack = Add(new TargetGroup($"fwd+bwd, 2 layers, T={ts}", new[]
            {
                Seq(ModelSpec.DuRnnFast, BenchMode.Training, ts, layers: 2), Seq(ModelSpec.Lstm, BenchMode.Training, ts, layers: 2),
            }));
            CellSpec Stream(ModelSpec m) => new(TaskKind.Streaming, m, BenchMode.Inference, s.StreamingCalls, 1, Workload.InputSize, H, 1, Machine.Threads);
            int streaming = Add(new TargetGroup("streaming", new[] { Stream(ModelSpec.DuRnnFast), Stream(ModelSpec.Lstm) }));

            var rows = new List<TargetRow>();
            rows.AddRange(training);
            rows.AddRange(inference);
            rows.AddRange(rooflineTraining);
            rows.AddRange(rooflineInference);
            rows.Add(new TargetRow("DuRNN fwd+bwd on 2 threads / on 1 thread", $"2 layers, T={tt}", new Bound(ThreadsBound, Better.Lower), RowKind.Ratio, threads));
            rows.Add(new TargetRow("training step (fwd+bwd) DuRNN / nn.LSTM", $"2 layers, T={ts}", new Bound(StackBound, Better.Lower), RowKind.Ratio, stack));
            rows.Add(new TargetRow("peak memory of a training step (peak RSS − RSS before, child processes) DuRNN / nn.LSTM",
                $"2 layers, T={ts}", new Bound(MemoryBound, Better.Lower), RowKind.Memory, -1));
            rows.Add(new TargetRow("streaming inference per call DuRNN / nn.LSTM", $"B=1, T=1 per call, {s.StreamingCalls} calls a run",
                new Bound(StreamingBound, Better.Lower), RowKind.Ratio, streaming));

            foreach (var mode in new[] { BenchMode.Training, BenchMode.Inference })
            {
                string what = mode == BenchMode.Training ? "training step" : "inference";
                long tf = s.FashionLength;
                CellSpec Fashion(ModelSpec m, long h) => new(TaskKind.FashionMnist, m, mode, tf, FashionBatch, FashionMnistWorkload.InputSize, h, 2, UserThreads);
                int fashion = Add(new TargetGroup($"Fashion-MNIST pixels, {what}", new[]
                {
                    Fashion(ModelSpec.DuRnnFast, FashionDuRnn), Fashion(ModelSpec.Lstm, FashionLstm), Fashion(ModelSpec.Gru, FashionGru),
                }));
                string fashionCell = $"T={tf}, B={FashionBatch}, I=1, 1 thread";
                rows.Add(new TargetRow($"Fashion-MNIST pixels {what} DuRNN 2×{FashionDuRnn} / nn.LSTM 2×{FashionLstm}", fashionCell,
                    new Bound(UserModelBound, Better.Lower), RowKind.Ratio, fashion, 1));
                rows.Add(new TargetRow($"Fashion-MNIST pixels {what} DuRNN 2×{FashionDuRnn} / nn.GRU 2×{FashionGru}", fashionCell,
                    null, RowKind.Ratio, fashion, 2));
            }
            foreach (var mode in new[] { BenchMode.Training, BenchMode.Inference })
            {
                string what = mode == BenchMode.Training ? "training step" : "inference";
                long tc = s.CharLength;
                CellSpec Char(ModelSpec m, long h) => new(TaskKind.CharLm, m, mode, tc, CharBatch, CharLanguageModelWorkload.EmbeddingSize, h, 2, UserThreads);
                int lm = Add(new TargetGroup($"character language model, {what}", new[]
                {
                    Char(ModelSpec.DuRnnFast, CharDuRnn), Char(ModelSpec.Lstm, CharLstm), Char(ModelSpec.Gru, CharGru),
                }));
                string lmCell = $"T={tc} a call (state carried), B={CharBatch}, E={CharLanguageModelWorkload.EmbeddingSize}, V={CharLanguageModelWorkload.Vocabulary}, 1 thread";
                rows.Add(new TargetRow($"language model {what} DuRNN 2×{CharDuRnn} / nn.LSTM 2×{CharLstm}", lmCell,
                    new Bound(UserModelBound, Better.Lower), RowKind.Ratio, lm, 1));
                rows.Add(new TargetRow($"language model {what} DuRNN 2×{CharDuRnn} / nn.GRU 2×{CharGru}", lmCell,
                    null, RowKind.Ratio, lm, 2));
            }
            return new TargetPlan(groups, rows);
        }

        /// <summary>
        /// The groups the separate-process step measures: all of them, or with --smoke the first group of each kind
        /// (task and thread counts), enough to run every code path once.
        /// </summary>
        public IReadOnlyList<int> SeparateGroups(bool smoke) => smoke
            ? Enumerable.Range(0, Groups.Count)
                .GroupBy(i => (Groups[i].Cells[0].Task, string.Join(",", Groups[i].Cells.Select(c => c.Threads))))
                .Select(g => g.First()).ToList()
            : Enumerable.Range(0, Groups.Count).ToList();
    }
}
