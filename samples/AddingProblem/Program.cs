using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// The adding problem (IndRNN's protocol) for DuRNN, a plain IndRNN, LSTM and GRU: trains each chosen model in
    /// turn, shows the progress, writes a CSV per model and a plot, and ends with one line stating the result.
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args) => CommandLine.Run<TrainCommand>(args,
            "dotnet run -c Release --project samples/AddingProblem --",
            "Adding problem (Hochreiter & Schmidhuber 1997; IndRNN's protocol): DuRNN against IndRNN, LSTM and GRU.",
            new[] { "--quick" },
            new[] { "--model", "durnn,lstm" });

        /// <summary>Runs the sample with the options of the command line; returns the exit code.</summary>
        internal static int Run(Options options)
        {
            if (options.PlotOnly)
                return PlotOnly(options);
            if (options.ErrorByPosition)
                return AddingProblem.ErrorByPosition.Run(options);

            // Freed tensors are kept for reuse instead of being unmapped and faulted in again at every step (the
            // library's Performance.ReuseFreedMemory: about twice as fast a training step here; all models benefit).
            bool reuse = DuRnn.Performance.ReuseFreedMemory();
            if (options.Threads is int threads)
                set_num_threads(threads);
            Directory.CreateDirectory(options.OutputDirectory);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Adding problem: T = {options.Length}, {options.Steps} steps of batch {options.Batch}, {options.Layers} layers × {options.Hidden}, Adam lr {options.LearningRate:G3}, weight decay {options.WeightDecay:G3}{(options.LibraryOptions.Length > 0 ? ", DuRNN with " + options.LibraryOptions : "")}, seed {options.Seed}, {get_num_threads()} threads{(reuse ? ", freed memory reused" : "")}{(options.Quick ? " (quick)" : "")}"));

            using var testSet = new TestSet(options.Length, options.TestSize, TestSet.ChunkSizeFor(options.Length, options.Hidden));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Test set: {testSet.Size} sequences (seed {TestSet.Seed}); predicting 1 gives MSE {testSet.EmpiricalBaselineMse:0.0000} on it (expected 1/6 = 0.1667)."));

            var results = ProgressDisplay.Run(options, (kind, sink) => Trainer.Train(kind, options, testSet, sink));

            foreach (var result in results)
                Console.WriteLine($"CSV:  {Results.WriteCsv(options.OutputDirectory, options.Length, result)}");
            Console.WriteLine($"Plot: {LearningCurvePlot.Save(options.OutputDirectory, options, results, testSet.EmpiricalBaselineMse)}");
            foreach (var result in results.Where(r => r.Diagnostics.Count > 0))
                WriteDiagnostics(options, result.Model, result.Diagnostics, result.InitialDiagnostics);
            Console.WriteLine(Results.Summary(results));
            return 0;
        }

        /// <summary>--plot-only: redraws the plot from the CSV files in --out, without training.</summary>
        private static int PlotOnly(Options options)
        {
            var results = new List<TrainingResult>();
            try
            {
                foreach (var kind in options.Models)
                    results.Add(Results.ReadCsv(options.OutputDirectory, options.Length, kind));
            }
            catch (Exception e) when (e is IOException or FormatException) // InvalidDataException: CommandLine.Run
            {
                Console.Error.WriteLine(e.Message);
                return CommandLine.ExitBadFile;
            }
            using var testSet = new TestSet(options.Length, options.TestSize, TestSet.ChunkSizeFor(options.Length, options.Hidden));
            Console.WriteLine($"Plot: {LearningCurvePlot.Save(options.OutputDirectory, options, results, testSet.EmpiricalBaselineMse)}");
            foreach (var kind in options.Models)
            {
                (IReadOnlyList<LayerDiagnostics> Trained, IReadOnlyList<LayerDiagnostics> Initial)? layers;
                try
                {
                    layers = LayerDiagnosticsReport.TryReadCsv(options.OutputDirectory, options.Length, kind);
                }
                catch (FormatException e) // InvalidDataException: CommandLine.Run
                {
                    Console.Error.WriteLine(e.Message);
                    return CommandLine.ExitBadFile;
                }
                if (layers is var (trained, initial))
                    WriteDiagnostics(options, kind, trained, initial, writeCsv: false);
            }
            Console.WriteLine(Results.Summary(results));
            return 0;
        }

        /// <summary>Writes a model's layer diagnostics (CSV and plot) and prints one line per layer.</summary>
        private static void WriteDiagnostics(Options options, ModelKind kind, IReadOnlyList<LayerDiagnostics> layers,
            IReadOnlyList<LayerDiagnostics> initial, bool writeCsv = true)
        {
            if (writeCsv)
                Console.WriteLine($"CSV:  {LayerDiagnosticsReport.WriteCsv(options.OutputDirectory, options.Length, kind, layers, initial)}");
            Console.WriteLine($"Plot: {LayerDiagnosticsReport.SavePlot(options.OutputDirectory, options.Length, kind, layers, initial)}");
            foreach (var line in LayerDiagnosticsReport.Describe(kind, options.Length, layers, initial))
                Console.WriteLine(line);
        }
    }
}
