using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using Spectre.Console;
using TorchSharp;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>
    /// Sequential Fashion-MNIST: each 28×28 image is read as a sequence — 28 rows of 28 pixels, or 784 single pixels —
    /// and classified from the last step's output. DuRNN against TorchSharp's LSTM and GRU at similar parameter counts.
    /// </summary>
    internal static class Program
    {
        private const int ExitNoData = 2;

        private static int Main(string[] args) => CommandLine.Run<TrainCommand>(args,
            "dotnet run -c Release --project samples/SequentialFashionMnist --",
            "Sequential Fashion-MNIST: classify 28×28 clothing images read as sequences, DuRNN against LSTM and GRU.",
            new[] { "--quick" });

        /// <summary>Runs the sample with the options of the command line; returns the exit code.</summary>
        internal static int Run(Options o)
        {
            if (o.PlotOnly)
                return PlotOnly(o);
            var missing = FashionMnistData.MissingFiles(o.DataDirectory);
            if (missing.Count > 0)
            {
                Console.Error.WriteLine($"Fashion-MNIST not found in {o.DataDirectory}: missing {string.Join(", ", missing)}.");
                Console.Error.WriteLine("Get it with one of:");
                Console.Error.WriteLine("  sudo apt-get install dataset-fashion-mnist     (Debian 12 and later: files in " + Options.DebianDataDirectory + ")");
                Console.Error.WriteLine("  download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and");
                Console.Error.WriteLine("  t10k-labels-idx1-ubyte.gz from the Fashion-MNIST project (github.com/zalandoresearch/fashion-mnist)");
                Console.Error.WriteLine("  into a folder DIR and pass --data DIR.");
                return ExitNoData;
            }

            // Freed tensors are kept for reuse instead of being unmapped and faulted in again at every step (the
            // library's Performance.ReuseFreedMemory; every model benefits).
            bool reuse = DuRnn.Performance.ReuseFreedMemory();
            torch.set_num_threads(o.Threads);
            Directory.CreateDirectory(o.OutputDirectory);
            var wall = Stopwatch.StartNew();
            using var data = FashionMnistData.Load(o.DataDirectory, o.TrainLimit, o.TestLimit);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Fashion-MNIST from {o.DataDirectory}: {data.TrainCount} training and {data.TestCount} test images; " +
                $"pixels/255 standardised with the training mean {data.Mean:0.####} and std {data.Std:0.####}."));
            string length = o.BudgetMinutes is double budget
                ? string.Create(CultureInfo.InvariantCulture, $"a budget of {budget:G4} minutes of training per model{(o.Epochs is int cap ? $" (at most {cap} epochs)" : "")}, test every {o.EvalMinutes:G4} minutes of training")
                : string.Create(CultureInfo.InvariantCulture, $"{o.Epochs} epoch(s), test {(o.EvalMinutes is double m ? $"every {m:G4} minutes of training" : "after every epoch")}");
            string order = o.Mode == SequenceMode.Permuted
                ? string.Create(CultureInfo.InvariantCulture, $" in the fixed order of permutation seed {o.PermutationSeed}")
                : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Report.Prefix(o)} mode: T = {o.SequenceLength} steps of {o.InputSize} pixel(s){order}; {length}; batch {o.Batch}, " +
                $"Adam lr {o.LearningRate:G4}, clip ±10, seed {o.Seed}, {o.Threads} thread(s){(reuse ? ", freed memory reused" : "")}{(o.Quick ? " (--quick)" : "")}."));

            using var pixelOrder = o.Mode == SequenceMode.Permuted ? torch.tensor(FashionMnistData.PixelOrder(o.PermutationSeed)) : null;
            var trainer = new Trainer(data, o, pixelOrder);
            var results = new List<ModelResult>();
            foreach (var kind in o.Models)
            {
                using var model = ModelFactory.Create(kind, o);
                string details = model is DuRnnClassifier or IndRnnClassifier
                    ? string.Create(CultureInfo.InvariantCulture, $"; MAG {o.Mag:G4} (U_bound = MAG^(1/{o.SequenceLength}))")
                    : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{model.Description}: {model.ParameterCount:N0} parameters, {trainer.StepsPerEpoch} steps per epoch{details}."));
                var result = ProgressDisplay.Run(model.Description, progress => trainer.Train(kind, model, progress));
                results.Add(result);
                if (model is DuRnnClassifier durnn) Report.PrintDiagnostics(durnn.Rnn.Diagnose(), "DuRNN", o.SequenceLength);
                if (model is IndRnnClassifier indrnn) Report.PrintDiagnostics(indrnn.Rnn.Diagnose(), "IndRNN", o.SequenceLength);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{model.Description}: test accuracy {Report.Percent(result.Final.TestAccuracy)} after {result.Final.Step} steps, " +
                    $"{result.SecondsPerStep:0.000} s per step; wrote {Report.WriteCurveCsv(result, o)}"));
            }

            WriteOutputs(results, o, data.TrainCount);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Total wall time {wall.Elapsed.TotalSeconds:0} s."));
            Console.WriteLine(Report.FinalLine(results, o, data.TrainCount, data.TestCount));
            return 0;
        }

        /// <summary>--plot-only: the tables, summary and plots from the CSV files in --out, without training.</summary>
        private static int PlotOnly(Options o)
        {
            var results = new List<ModelResult>();
            try
            {
                foreach (var kind in o.Models)
                    results.Add(Report.ReadResult(o, kind));
            }
            catch (Exception e) when (e is IOException or FormatException) // InvalidDataException: CommandLine.Run
            {
                Console.Error.WriteLine(e.Message);
                return CommandLine.ExitBadFile;
            }
            WriteOutputs(results, o, trainCount: o.TrainLimit ?? FashionMnistData.FullTrainCount);
            return 0;
        }

        private static void WriteOutputs(IReadOnlyList<ModelResult> results, Options o, int trainCount)
        {
            Report.PrintSummary(results, o);
            Report.PrintPerClass(results);
            Console.WriteLine($"Wrote {Report.WriteSummaryCsv(results, o)}");
            foreach (var path in Plots.TestAccuracy(results, o, trainCount))
                Console.WriteLine($"Wrote {path}");
            Console.WriteLine($"Wrote {Plots.PerClassAccuracy(results, o)}");
        }
    }
}
