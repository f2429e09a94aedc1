using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace DuRnn.Benchmarks
{
    /// <summary>A DuRNN implementation path as a benchmark argument, labelled "Auto (fast path)" for Auto.</summary>
    public sealed class DuRnnPath
    {
        /// <summary>Wraps one implementation.</summary>
        public DuRnnPath(DuRNNImplementation implementation) => Implementation = implementation;

        /// <summary>The implementation.</summary>
        public DuRNNImplementation Implementation { get; }

        /// <inheritdoc />
        public override string ToString() =>
            Implementation == DuRNNImplementation.Auto ? "Auto (fast path)" : Implementation.ToString();
    }

    /// <summary>
    /// The full grid for BenchmarkDotNet: T ∈ {100, 500, 2000, 5000}, B ∈ {1, 32}, H ∈ {128, 512}, one layer,
    /// I = 8, float32, CPU, 2 threads; nn.LSTM is the baseline (Ratio column), DuRNN runs once per
    /// <see cref="DuRNNImplementation"/> value, IndRNN with its fast path (Auto).
    /// </summary>
    [MemoryDiagnoser]
    public abstract class RecurrentBenchmarks
    {
        private Workload? workload;

        /// <summary>Sequence length.</summary>
        [Params(100, 500, 2000, 5000)]
        public int T { get; set; }

        /// <summary>Batch size.</summary>
        [Params(1, 32)]
        public int B { get; set; }

        /// <summary>Hidden size.</summary>
        [Params(128, 512)]
        public int H { get; set; }

        /// <summary>Training (forward+backward) or inference.</summary>
        public abstract BenchMode Mode { get; }

        /// <summary>Every DuRNN implementation the library defines.</summary>
        public static IEnumerable<DuRnnPath> Paths() => Enum.GetValues<DuRNNImplementation>().Select(i => new DuRnnPath(i));

        /// <summary>Creates the LSTM and its input.</summary>
        [GlobalSetup(Target = nameof(Lstm))]
        public void SetupLstm() => Setup(ModelSpec.Lstm);

        /// <summary>Creates the GRU and its input.</summary>
        [GlobalSetup(Target = nameof(Gru))]
        public void SetupGru() => Setup(ModelSpec.Gru);

        /// <summary>Creates the ReLU RNN and its input.</summary>
        [GlobalSetup(Target = nameof(RnnRelu))]
        public void SetupRnnRelu() => Setup(ModelSpec.RnnRelu);

        /// <summary>Creates the IndRNN (fast path) and its input.</summary>
        [GlobalSetup(Target = nameof(IndRnn))]
        public void SetupIndRnn() => Setup(ModelSpec.IndRnnFast);

        /// <summary>Creates the DuRNN and its input (the path is set per invocation from the argument).</summary>
        [GlobalSetup(Target = nameof(Durnn))]
        public void SetupDurnn() => Setup(ModelSpec.DuRnnFast);

        /// <summary>Disposes the model and the input.</summary>
        [GlobalCleanup]
        public void Cleanup()
        {
            workload?.Dispose();
            workload = null;
        }

        /// <summary>DuRNN with the given implementation path.</summary>
        [Benchmark(Description = "DuRNN")]
        [ArgumentsSource(nameof(Paths))]
        public void Durnn(DuRnnPath path)
        {
            workload!.UseImplementation(path.Implementation);
            workload.Step(Mode);
        }

        /// <summary>IndRNN, fast path (Auto).</summary>
        [Benchmark(Description = "IndRNN")]
        public void IndRnn() => workload!.Step(Mode);

        /// <summary>torch.nn.LSTM, the baseline.</summary>
        [Benchmark(Baseline = true, Description = "nn.LSTM")]
        public void Lstm() => workload!.Step(Mode);

        /// <summary>torch.nn.GRU.</summary>
        [Benchmark(Description = "nn.GRU")]
        public void Gru() => workload!.Step(Mode);

        /// <summary>torch.nn.RNN with ReLU.</summary>
        [Benchmark(Description = "nn.RNN (ReLU)")]
        public void RnnRelu() => workload!.Step(Mode);

        private void Setup(ModelSpec spec)
        {
            Machine.ConfigureTorch();
            workload = new Workload(spec, T, B, H);
        }
    }

    /// <summary>Forward+backward: loss = output.sum() + final states' sums; backward; zero grads.</summary>
    public class TrainingBenchmarks : RecurrentBenchmarks
    {
        /// <inheritdoc />
        public override BenchMode Mode => BenchMode.Training;
    }

    /// <summary>Forward only, under no_grad.</summary>
    public class InferenceBenchmarks : RecurrentBenchmarks
    {
        /// <inheritdoc />
        public override BenchMode Mode => BenchMode.Inference;
    }

    /// <summary>
    /// BenchmarkDotNet's default orderer, except that a logical group (the set of benchmarks that share a baseline)
    /// is keyed by job, category and [Params] only, not by method arguments: so every DuRNN path is compared with
    /// the nn.LSTM of the same (T, B, H).
    /// </summary>
    internal sealed class SameParamsOrderer : IOrderer
    {
        private readonly IOrderer inner = DefaultOrderer.Instance;

        public bool SeparateLogicalGroups => inner.SeparateLogicalGroups;

        public IEnumerable<BenchmarkCase> GetExecutionOrder(ImmutableArray<BenchmarkCase> benchmarksCase,
            IEnumerable<BenchmarkLogicalGroupRule>? order = null) => inner.GetExecutionOrder(benchmarksCase, order);

        public string? GetHighlightGroupKey(BenchmarkCase benchmarkCase) => inner.GetHighlightGroupKey(benchmarkCase);

        public string GetLogicalGroupKey(ImmutableArray<BenchmarkCase> allBenchmarksCases, BenchmarkCase benchmarkCase)
        {
            var p = benchmarkCase.Parameters.Items.Where(i => !i.IsArgument).Select(i => $"{i.Name}={i.Value}");
            return string.Join("-", new[]
            {
                benchmarkCase.Descriptor.Type.Name,
                benchmarkCase.Job.DisplayInfo,
                string.Join(",", benchmarkCase.Descriptor.Categories),
                "[" + string.Join(", ", p) + "]",
            });
        }

        public IEnumerable<IGrouping<string, BenchmarkCase>> GetLogicalGroupOrder(
            IEnumerable<IGrouping<string, BenchmarkCase>> logicalGroups, IEnumerable<BenchmarkLogicalGroupRule>? order = null) =>
            inner.GetLogicalGroupOrder(logicalGroups, order);

        public IEnumerable<BenchmarkCase> GetSummaryOrder(ImmutableArray<BenchmarkCase> benchmarksCases, Summary summary)
        {
            var groups = benchmarksCases.GroupBy(b => GetLogicalGroupKey(benchmarksCases, b));
            foreach (var group in inner.GetLogicalGroupOrder(groups))
            foreach (var b in group.OrderBy(b => b.Descriptor.Baseline ? 0 : 1)) // baseline first, then declared order
                yield return b;
        }
    }

    /// <summary>Runs the full grid with BenchmarkDotNet and turns its summaries into the project's tables.</summary>
    internal static class Full
    {
        public static IConfig Config(bool inProcess)
        {
            var job = Job.Default
                .WithWarmupCount(2)
                .WithIterationCount(5)
                .WithUnrollFactor(1)
                .WithId(inProcess ? "InProcess" : "OutOfProcess");
            if (inProcess)
                job = job.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(12), logOutput: true));
            else if (Environment.GetEnvironmentVariable(OpenMp.Variable) is string policy && policy.Length > 0)
                job = job.WithEnvironmentVariable(OpenMp.Variable, policy);
            return ManualConfig.Create(DefaultConfig.Instance)
                .AddJob(job)
                .AddColumn(StatisticColumn.Median)
                .WithOrderer(new SameParamsOrderer())
                .WithOptions(ConfigOptions.JoinSummary);
        }

        /// <summary>The time results of BenchmarkDotNet's summaries (median per cell).</summary>
        public static List<TimeResult> ToResults(IEnumerable<Summary> summaries)
        {
            var results = new List<TimeResult>();
            foreach (var report in summaries.SelectMany(s => s.Reports))
            {
                var bc = report.BenchmarkCase;
                var mode = typeof(TrainingBenchmarks).IsAssignableFrom(bc.Descriptor.Type) ? BenchMode.Training : BenchMode.Inference;
                ModelSpec model = bc.Descriptor.WorkloadMethod.Name switch
                {
                    nameof(RecurrentBenchmarks.Lstm) => ModelSpec.Lstm,
                    nameof(RecurrentBenchmarks.Gru) => ModelSpec.Gru,
                    nameof(RecurrentBenchmarks.RnnRelu) => ModelSpec.RnnRelu,
                    nameof(RecurrentBenchmarks.IndRnn) => ModelSpec.IndRnnFast,
                    _ => new ModelSpec(ModelKind.DuRnn, ((DuRnnPath)bc.Parameters.Items.Single(i => i.IsArgument).Value).Implementation),
                };
                long t = Convert.ToInt64(bc.Parameters["T"]), b = Convert.ToInt64(bc.Parameters["B"]), h = Convert.ToInt64(bc.Parameters["H"]);
                var stats = report.ResultStatistics;
                results.Add(new TimeResult(model, mode, t, b, h, stats is null ? null : stats.Median / 1e6, stats?.N ?? 0));
            }
            return results;
        }
    }
}
