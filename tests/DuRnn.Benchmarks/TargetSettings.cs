using System;
using System.Collections.Generic;
using System.IO;

namespace DuRnn.Benchmarks
{
    /// <summary>
    /// How a <c>--targets</c> run is done: how many times the interleaved rows are repeated, the separate-process
    /// rounds, whether the memory case runs, where the report goes, and the sizes (the real ones, or tiny ones with
    /// <c>--smoke</c>, which checks that every code path runs and measures nothing).
    /// </summary>
    internal sealed record TargetSettings
    {
        /// <summary>How many times the whole set of interleaved rows runs (--runs N, default 3).</summary>
        public int Runs { get; init; } = 3;

        /// <summary>Whether the separate-process figures are measured (--no-separate skips them).</summary>
        public bool Separate { get; init; } = true;

        /// <summary>M: separate-process rounds per row, one child per cell each (--separate-rounds M, default 3).</summary>
        public int SeparateRounds { get; init; } = 3;

        /// <summary>K: timed runs per child, after <see cref="ChildWarmups"/> warm-up runs (--child-runs K, default 5).</summary>
        public int ChildRuns { get; init; } = 5;

        /// <summary>
        /// W: untimed runs per child before the timed ones (--child-warmups W, default 4): a fresh process's first
        /// runs are 1.5–3× slower while its heap grows (measured 2026-12-02, also with tiered compilation off).
        /// </summary>
        public int ChildWarmups { get; init; } = 4;

        /// <summary>Whether the memory case (child processes) runs (--no-memory skips it).</summary>
        public bool WithMemory { get; init; } = true;

        /// <summary>--smoke: tiny sizes, two rounds, one run, one child per cell, the separate-process step for one group of each kind.</summary>
        public bool Smoke { get; init; }

        /// <summary>Whether the report is written to files (--targets; not after --quick's grid).</summary>
        public bool WriteFiles { get; init; } = true;

        /// <summary>The folder of the report files (--out DIR); null: <see cref="DefaultOutputDirectory"/>.</summary>
        public string? OutputDirectory { get; init; }

        /// <summary>The command line, for the report's header.</summary>
        public string CommandLine { get; init; } = "--targets";

        /// <summary>How many interleaved rounds a group gets.</summary>
        public InterleavingPolicy Policy => Smoke ? InterleavingPolicy.Smoke : InterleavingPolicy.Default;

        /// <summary>T of the 1-layer rows (fwd+bwd, inference, roofline).</summary>
        public IReadOnlyList<long> Lengths => Smoke ? new long[] { 20 } : new long[] { 500, 2000, 5000 };

        /// <summary>T of the 2-layer time row (and of the memory case).</summary>
        public long StackLength => Smoke ? 20 : MemoryProbe.T;

        /// <summary>T of the 2-thread / 1-thread row.</summary>
        public long ThreadsLength => Smoke ? 20 : 2000;

        /// <summary>Calls per run of the streaming row.</summary>
        public int StreamingCalls => Smoke ? 20 : Streaming.Calls;

        /// <summary>T of the Fashion-MNIST rows (784 pixels).</summary>
        public long FashionLength => Smoke ? 20 : 784;

        /// <summary>T per call of the language-model rows.</summary>
        public long CharLength => Smoke ? 20 : 100;

        /// <summary>Where the report goes: --out, else results/ of this project (a temporary folder with --smoke).</summary>
        public string ResolvedOutputDirectory => OutputDirectory ?? DefaultOutputDirectory(Smoke);

        /// <summary>
        /// tests/DuRnn.Benchmarks/results (the folder recorded at build time; results/ under the working directory
        /// without it); for --smoke a folder under the temporary directory, so that a smoke run never replaces
        /// results/targets-latest.md.
        /// </summary>
        public static string DefaultOutputDirectory(bool smoke) => smoke
            ? Path.Combine(Path.GetTempPath(), "durnn-benchmarks-smoke")
            : Path.Combine(GitState.ProjectDirectory is string p && Directory.Exists(p) ? p : Environment.CurrentDirectory, "results");
    }
}
