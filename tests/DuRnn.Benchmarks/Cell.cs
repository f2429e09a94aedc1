using System;
using System.Collections.Generic;
using System.Globalization;

namespace DuRnn.Benchmarks
{
    /// <summary>One timed operation: <see cref="Run"/> is timed, everything else (model, data, optimizer) is set up once.</summary>
    internal interface IMeasurable : IDisposable
    {
        /// <summary>One timed run, inside its own dispose scope (no tensor outlives it but state a workload carries on purpose).</summary>
        void Run();
    }

    /// <summary>What a cell runs: the workload around the recurrent model.</summary>
    public enum TaskKind
    {
        /// <summary>
        /// The bare recurrent module over a random (T, B, I) input (<see cref="Workload"/>): fwd+bwd with
        /// loss = sum of the outputs and final states, or inference.
        /// </summary>
        Sequence,

        /// <summary>One-step calls at B = 1, the state carried (<see cref="Streaming"/>); T is the number of calls a run.</summary>
        Streaming,

        /// <summary>The pixel Fashion-MNIST classifier (<see cref="FashionMnistWorkload"/>): a training step with Adam, or inference.</summary>
        FashionMnist,

        /// <summary>The character language model (<see cref="CharLanguageModelWorkload"/>): one chunk of truncated BPTT with Adam, or inference.</summary>
        CharLm,
    }

    /// <summary>
    /// Everything that defines a timed cell, so that a child process can build the same one from its command line
    /// (<see cref="ToArgs"/>, <see cref="Parse"/>): the task, the model, the mode, T, B, I, H, the layers and
    /// torch's thread count. Every cell seeds torch before it builds its model and data.
    /// </summary>
    internal sealed record CellSpec(TaskKind Task, ModelSpec Model, BenchMode Mode, long T, long B, long I, long H, long Layers, int Threads)
    {
        private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

        /// <summary>The command-line name of <see cref="Task"/>.</summary>
        public string TaskKey => Task switch
        {
            TaskKind.Streaming => "streaming",
            TaskKind.FashionMnist => "fashion",
            TaskKind.CharLm => "charlm",
            _ => "sequence",
        };

        /// <summary>How a run's time divides into the unit a table shows: per call for streaming (T calls a run), else the run.</summary>
        public int RunDivisor => Task == TaskKind.Streaming ? (int)T : 1;

        /// <summary>The model in a few words, e.g. "nn.LSTM 2×104".</summary>
        public string ModelLabel => Task == TaskKind.Sequence || Task == TaskKind.Streaming
            ? $"{Model.Label}{(Layers > 1 ? $" {Layers} layers" : "")}"
            : $"{ShortLabel(Model)} {Layers}×{H}";

        /// <summary>"fwd+bwd" or "inference" for the bare module; "training step" (with the optimizer) or "inference" for the trained models.</summary>
        public string ModeLabel => Mode == BenchMode.Training && (Task == TaskKind.FashionMnist || Task == TaskKind.CharLm)
            ? "training step"
            : Report.ModeLabel(Mode);

        /// <summary>One line: model, task, mode, shape, threads.</summary>
        public string Describe() => string.Create(Inv,
            $"{Model.Label}, {TaskKey} {ModeLabel}, T={T}, B={B}, I={I}, H={H}, {Layers} layer(s), {Threads} thread(s)");

        /// <summary>The arguments of a <c>--single</c> child that times this cell <paramref name="runs"/> times after <paramref name="warmup"/> warm-up runs.</summary>
        public IReadOnlyList<string> ToArgs(int runs, int warmup) => new[]
        {
            "--single", Model.Key, Mode.ToString().ToLowerInvariant(), T.ToString(Inv), B.ToString(Inv), H.ToString(Inv),
            Layers.ToString(Inv), runs.ToString(Inv),
            "--task", TaskKey, "--input", I.ToString(Inv), "--threads", Threads.ToString(Inv), "--warmup", warmup.ToString(Inv),
        };

        /// <summary>Parses a task's command-line name.</summary>
        public static TaskKind ParseTask(string key) => key.ToLowerInvariant() switch
        {
            "sequence" => TaskKind.Sequence,
            "streaming" => TaskKind.Streaming,
            "fashion" => TaskKind.FashionMnist,
            "charlm" => TaskKind.CharLm,
            _ => throw new ArgumentException($"unknown task '{key}'; expected sequence, streaming, fashion or charlm"),
        };

        /// <summary>The input size of a task when none is given: 8, 1 pixel for Fashion-MNIST, the embedding size for the language model.</summary>
        public static long DefaultInput(TaskKind task) => task switch
        {
            TaskKind.FashionMnist => FashionMnistWorkload.InputSize,
            TaskKind.CharLm => CharLanguageModelWorkload.EmbeddingSize,
            _ => Workload.InputSize,
        };

        /// <summary>Builds the cell (seeded; the caller disposes it).</summary>
        public IMeasurable Create() => Task switch
        {
            TaskKind.Streaming => new Streaming(Model.Kind, H, checked((int)T), I),
            TaskKind.FashionMnist => new FashionMnistWorkload(Model.Kind, Mode, T, B, I, H, Layers),
            TaskKind.CharLm => new CharLanguageModelWorkload(Model.Kind, Mode, T, B, I, H, Layers),
            _ => new SequenceCell(new Workload(Model, T, B, H, Layers, inputSize: I), Mode),
        };

        private static string ShortLabel(ModelSpec m) => m.Kind switch
        {
            ModelKind.DuRnn => "DuRNN",
            ModelKind.IndRnn => "IndRNN",
            _ => m.Label,
        };

        /// <summary>A <see cref="Workload"/> run in one mode.</summary>
        private sealed class SequenceCell : IMeasurable
        {
            private readonly Workload _workload;
            private readonly BenchMode _mode;

            public SequenceCell(Workload workload, BenchMode mode)
            {
                _workload = workload;
                _mode = mode;
            }

            public void Run() => _workload.Step(_mode);

            public void Dispose() => _workload.Dispose();
        }
    }
}
