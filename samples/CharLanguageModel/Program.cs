using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// A character-level language model on a real corpus (by default the King James Bible): DuRNN against IndRNN, LSTM
    /// and GRU at equal parameter counts, trained by truncated backpropagation through time with the state carried
    /// from chunk to chunk, compared in bits per character at equal training time; then each model writes some text.
    /// </summary>
    internal static class Program
    {
        private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

        /// <summary>Parses the command line and runs <see cref="TrainCommand"/>; returns the exit code.</summary>
        private static int Main(string[] args) => CommandLine.Run<TrainCommand>(args,
            "dotnet run -c Release --project samples/CharLanguageModel --",
            "Character-level language model on the King James Bible (or any UTF-8 text): DuRNN against IndRNN, LSTM and GRU at equal parameter counts, in bits per character.",
            new[] { "--quick" },
            new[] { "--model", "durnn,lstm", "--budget-minutes", "30", "--threads", "1" },
            new[] { "--text", "book.txt", "--steps", "2000" });

        /// <summary>Runs the sample with the options of the command line; returns the exit code.</summary>
        internal static int Run(Options o)
        {
            if (o.PlotOnly)
                return PlotOnly(o);

            var corpus = LoadCorpus(o);
            if (corpus is null)
                return CommandLine.ExitBadArguments;
            var vocabulary = Vocabulary.Of(corpus.Characters);
            string prompt = o.Prompt ?? (vocabulary.Contains('\n') ? "\n" : char.ConvertFromUtf32(corpus.Characters[0]));
            if (vocabulary.Unknown(prompt) is { Count: > 0 } unknown)
            {
                Console.Error.WriteLine($"--prompt: the text has no {string.Join(", ", unknown.Select(c => "'" + Vocabulary.Visible(c) + "'"))}; " +
                    "use only characters of the text.");
                return CommandLine.ExitBadArguments;
            }

            // Freed tensors are kept for reuse instead of being unmapped and faulted in again at every step (the
            // library's Performance.ReuseFreedMemory; every model benefits).
            bool reuse = DuRnn.Performance.ReuseFreedMemory();
            if (o.Threads is int threads)
                torch.set_num_threads(threads);
            Directory.CreateDirectory(o.OutputDirectory);

            using var splits = new TextSplits(vocabulary.Encode(corpus.Characters));
            long trainChars = splits.Train.shape[0], validChars = splits.Valid.shape[0], testChars = splits.Test.shape[0];
            if (validChars < 2 || testChars < 2 || (trainChars - 1) / o.Batch < o.Bptt)
            {
                Console.Error.WriteLine(string.Create(Invariant,
                    $"The text is too short: {corpus.Characters.Count} characters give {trainChars} for training (at least --batch × --bptt + 1 = {(long)o.Batch * o.Bptt + 1} needed), {validChars} for validation and {testChars} for the test (at least 2 each)."));
                return CommandLine.ExitBadArguments;
            }

            Console.WriteLine(string.Create(Invariant,
                $"Corpus: {corpus.Source}{(o.MaxChars is int max ? $", first {max:N0} characters" : "")}: {corpus.Characters.Count:N0} characters."));
            Console.WriteLine(string.Create(Invariant,
                $"Vocabulary: {vocabulary.Size} symbols: {vocabulary.Describe()}  (written to {vocabulary.Write(Results.VocabularyPath(o))})"));
            Console.WriteLine(string.Create(Invariant,
                $"Parts (contiguous): training {trainChars:N0}, validation {validChars:N0}, test {testChars:N0} characters."));

            using var train = new ParallelStreams(splits.Train, o.Batch);
            using var valid = new ParallelStreams(splits.Valid, (int)Math.Min(Evaluator.Streams, validChars - 1));
            using var test = new ParallelStreams(splits.Test, (int)Math.Min(Evaluator.Streams, testChars - 1));
            string corpusFingerprint = string.Create(Invariant,
                $"corpus={o.CorpusName} chars={corpus.Characters.Count} hash={corpus.Hash()} vocabulary={vocabulary.Size}");
            var trainer = new Trainer(o, train, valid, test, vocabulary.Size, corpusFingerprint);

            string stop = o.Steps is int steps
                ? string.Create(Invariant, $"{o.BudgetMinutes:0.##} min of training or {steps} steps, whichever comes first")
                : string.Create(Invariant, $"{o.BudgetMinutes:0.##} min of training");
            Console.WriteLine(string.Create(Invariant,
                $"Training: {o.Batch} streams × {o.Bptt} characters a step (truncated BPTT, state carried detached; {trainer.StepsPerEpoch} steps a pass), " +
                $"{stop} per model; Adam lr {o.LearningRate:G3}, weight decay {o.WeightDecay:G3}, gradient elements clipped to ±{Trainer.ClipValue:0}; " +
                $"validation every {o.EvalMinutes:0.##} min of training; seed {o.Seed}; {torch.get_num_threads()} thread(s){(reuse ? ", freed memory reused" : "")}{(o.Quick ? " (--quick)" : "")}."));
            PrintParameterCounts(o, vocabulary.Size);

            if (o.Diagnose)
                return Diagnose(o, trainer, valid, vocabulary.Size);

            var summaries = new List<ModelSummary>();
            var curves = new List<(string, IReadOnlyList<CurvePoint>)>();
            foreach (var kind in o.Models)
            {
                using var model = ModelFactory.Create(kind, o, vocabulary.Size);
                var result = ProgressDisplay.Run(o, model.Description, sink => trainer.Train(model, sink));
                summaries.Add(result.Summary);
                curves.Add((Label(result.Summary), result.Curve));
                if (result.DivergedAtStep is int diverged)
                    Console.WriteLine($"{model.Description}: the loss was not finite at step {diverged}; training stopped there.");
                Console.WriteLine(string.Create(Invariant,
                    $"{model.Description}: {result.StepsThisRun} steps in this run; gradient norm median {result.MedianGradientNorm:0.###}, clipping (±{Trainer.ClipValue:0}) changed {result.ClippedSteps} of them; CSV: {Results.CurvePath(o, kind)}"));
                Console.WriteLine(Results.Describe(result.Summary));
                var activity = UnitActivity.Measure(model, valid);
                Console.WriteLine($"{UnitActivity.Describe(model.Description, activity)}; {UnitActivity.Write(o, kind, activity)}");
                if (o.Generate > 0)
                {
                    string text = Generator.Generate(model, vocabulary, prompt, o.Generate, o.Temperature, o.Seed);
                    Console.WriteLine(string.Create(Invariant,
                        $"{model.Description} writes ({o.Generate} characters at temperature {o.Temperature:0.##}, seed {o.Seed}, after the prompt '{Escape(prompt)}'; {Results.WriteSample(o, kind, prompt, text)}):"));
                    Console.WriteLine(new string('-', 60));
                    Console.WriteLine(prompt + text);
                    Console.WriteLine(new string('-', 60));
                }
            }

            Console.WriteLine($"Summary: {Results.WriteSummary(o, summaries)}");
            Console.WriteLine($"Plot:    {LearningCurvePlot.Save(o, curves)}");
            Console.WriteLine(Results.FinalLine(summaries));
            return 0;
        }

        /// <summary>--diagnose: each model's checkpoint, measured by <see cref="UnitActivity"/> on the validation text.</summary>
        private static int Diagnose(Options o, Trainer trainer, ParallelStreams valid, int vocabulary)
        {
            int found = 0;
            foreach (var kind in o.Models)
            {
                using var model = ModelFactory.Create(kind, o, vocabulary);
                if (!trainer.TryLoadWeights(model))
                {
                    Console.WriteLine($"{model.Description}: no checkpoint in {Checkpoint.Folder(o, kind)}.");
                    continue;
                }
                found++;
                var activity = UnitActivity.Measure(model, valid);
                Console.WriteLine($"{UnitActivity.Describe(model.Description, activity)}; {UnitActivity.Write(o, kind, activity)}");
            }
            return found > 0 ? 0 : 1;
        }

        /// <summary>Reads the text of --text, or the default corpus; prints how to get it and returns null when it is missing.</summary>
        private static Corpus? LoadCorpus(Options o)
        {
            if (o.TextPath is string path)
            {
                if (File.Exists(path)) return Corpus.FromFile(path, o.MaxChars);
                Console.Error.WriteLine($"--text: no file {path}.");
                return null;
            }
            if (Corpus.FindBibleProgram() is string program)
                return Corpus.FromBible(program, o.MaxChars);
            Console.Error.WriteLine($"The default corpus, the King James Bible, comes from Debian's bible-kjv package: '{Corpus.BibleProgram}' is not on the PATH.");
            Console.Error.WriteLine("Get it with one of:");
            Console.Error.WriteLine("  sudo apt-get install bible-kjv      (Debian and Ubuntu; the sample runs 'bible -f \"Gen1:1-Rev22:21\"')");
            Console.Error.WriteLine("  --text FILE                         (train on any UTF-8 text file instead)");
            return null;
        }

        /// <summary>Prints every model's size and parameter count (by formula; each model checks it when built).</summary>
        private static void PrintParameterCounts(Options o, int vocabulary)
        {
            long target = ModelFactory.Parameters(ModelKind.DuRnn, o.Hidden, o, vocabulary);
            foreach (var kind in o.Models)
            {
                int hidden = ModelFactory.HiddenSize(kind, o, vocabulary);
                long count = ModelFactory.Parameters(kind, hidden, o, vocabulary);
                double off = (double)(count - target) / target;
                string match = kind == ModelKind.DuRnn
                    ? ""
                    : string.Create(Invariant, $", {off:+0.0%;-0.0%;0.0%} against DuRNN {o.Layers}×{o.Hidden}") +
                      (Math.Abs(off) > ModelFactory.Tolerance ? " (no hidden size comes within 5 % at these sizes)" : "");
                Console.WriteLine(string.Create(Invariant,
                    $"  {Options.Name(kind),-6} {o.Layers}×{hidden}: {count:N0} parameters (embedding {vocabulary}×{o.Embedding}, stack {count - (long)vocabulary * o.Embedding - (long)(hidden + 1) * vocabulary:N0}, read-out {hidden}×{vocabulary} + {vocabulary}){match}"));
            }
            if (o.LibraryOptions.Length > 0)
                Console.WriteLine($"  DuRNN and IndRNN with {o.LibraryOptions} (not the library's defaults)");
        }

        /// <summary>--plot-only: redraws the plot from the CSV files in --out, without training.</summary>
        private static int PlotOnly(Options o)
        {
            var summaries = Results.ReadSummary(o);
            var curves = new List<(string, IReadOnlyList<CurvePoint>)>();
            try
            {
                foreach (var kind in o.Models)
                {
                    var curve = Results.ReadCurve(Results.CurvePath(o, kind));
                    var summary = summaries.FirstOrDefault(s => s.Model == kind);
                    curves.Add((summary is null ? Options.Name(kind) : Label(summary), curve));
                }
            }
            catch (Exception e) when (e is IOException or FormatException) // InvalidDataException: CommandLine.Run
            {
                Console.Error.WriteLine(e.Message);
                return CommandLine.ExitBadFile;
            }
            Console.WriteLine($"Plot: {LearningCurvePlot.Save(o, curves)}");
            var known = summaries.Where(s => o.Models.Contains(s.Model)).ToList();
            if (known.Count > 0)
                Console.WriteLine(Results.FinalLine(known));
            return 0;
        }

        /// <summary>A model's legend text, e.g. "durnn 2×256, 582,537 parameters: 2.12 bpc".</summary>
        private static string Label(ModelSummary s) => string.Create(Invariant,
            $"{Options.Name(s.Model)} {s.Layers}×{s.Hidden}, {s.Parameters:N0} parameters: valid {s.ValidBpc:0.000} bpc");

        /// <summary><paramref name="text"/> on one line, invisible characters written visibly (<see cref="Vocabulary.Visible"/>).</summary>
        private static string Escape(string text) => string.Concat(text.EnumerateRunes().Select(r => Vocabulary.Visible(r.Value)));
    }
}
