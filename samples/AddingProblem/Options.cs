using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>The recurrent models this sample can train.</summary>
    internal enum ModelKind
    {
        /// <summary>The library's <see cref="DuRnn.DuRNN"/> stack.</summary>
        DuRnn,

        /// <summary>A plain IndRNN stack built from the library's <see cref="DuRnn.LongTermCell"/>.</summary>
        IndRnn,

        /// <summary>TorchSharp's nn.LSTM.</summary>
        Lstm,

        /// <summary>TorchSharp's nn.GRU.</summary>
        Gru,

        /// <summary>Ablation: DuRNN without the selection gate (g = 1, frozen).</summary>
        DuRnnNoGate,

        /// <summary>Ablation: DuRNN without short-term recurrence (U_s = 0, frozen).</summary>
        DuRnnNoShortTerm,
    }

    /// <summary>The command line of the sample, parsed and checked.</summary>
    internal sealed record Options
    {
        /// <summary>T, the number of steps of every sequence.</summary>
        public int Length { get; init; } = 100;

        /// <summary>The number of training steps (mini-batches) per model.</summary>
        public int Steps { get; init; } = 500;

        /// <summary>The mini-batch size B.</summary>
        public int Batch { get; init; } = 32;

        /// <summary>Adam's learning rate.</summary>
        public double LearningRate { get; init; } = 2e-4;

        /// <summary>L2 weight decay on weight matrices (not on u, not on biases).</summary>
        public double WeightDecay { get; init; } = 1e-4;

        /// <summary>The number of recurrent layers.</summary>
        public int Layers { get; init; } = 2;

        /// <summary>The number of hidden units per layer.</summary>
        public int Hidden { get; init; } = 128;

        /// <summary>The models to train, in order, one after the other.</summary>
        public IReadOnlyList<ModelKind> Models { get; init; } = new[] { ModelKind.DuRnn };

        /// <summary>Seeds torch's generator and the training-data generator.</summary>
        public int Seed { get; init; } = 1;

        /// <summary>The folder for the CSV files and the plot.</summary>
        public string OutputDirectory { get; init; } = DefaultOutputDirectory();

        /// <summary>Evaluate on the test set every this many training steps.</summary>
        public int EvalEvery { get; init; } = 50;

        /// <summary>The number of sequences in the fixed test set.</summary>
        public int TestSize { get; init; } = 1000;

        /// <summary>torch's intra-op threads; null keeps torch's default (one per core).</summary>
        public int? Threads { get; init; }

        /// <summary>Whether --checkpoint was given: save a checkpoint after every evaluation.</summary>
        public bool Checkpoint { get; init; }

        /// <summary>Whether --resume was given: continue from the checkpoint if there is one (implies --checkpoint).</summary>
        public bool Resume { get; init; }

        /// <summary>Whether --quick was given (a tiny smoke-test configuration).</summary>
        public bool Quick { get; init; }

        /// <summary>Whether --plot-only was given: redraw the plot from the CSV files in --out, without training.</summary>
        public bool PlotOnly { get; init; }

        /// <summary>Whether --help was given.</summary>
        public bool Help { get; init; }

        /// <summary>The option summary printed by --help.</summary>
        public const string Usage =
@"Adding problem (Hochreiter & Schmidhuber 1997; IndRNN's protocol): DuRNN against IndRNN, LSTM and GRU.

Usage: dotnet run -c Release --project samples/AddingProblem -- [options]

  --model M[,M...]   durnn | indrnn | lstm | gru | durnn-nogate | durnn-noshort; comma-separated or
                     repeated (default durnn); the last two are ablations: g = 1, or U_s = 0
  --length T         sequence length (default 100)
  --steps N          training steps per model (default 500)
  --batch B          mini-batch size (default 32)
  --lr X             Adam learning rate (default 2e-4)
  --weight-decay X   L2 weight decay on weight matrices, not on u or biases (default 1e-4; 0 = plain Adam)
  --layers L         recurrent layers (default 2)
  --hidden H         units per layer (default 128)
  --seed S           seed of torch and of the training data (default 1)
  --eval-every N     evaluate on the test set every N steps (default 50)
  --test-size N      sequences in the fixed test set (default 1000)
  --threads N        torch intra-op threads (default: one per core; 1 with --quick)
  --out DIR          folder for the CSV files and the PNG plot (default samples/AddingProblem/out)
  --checkpoint       after every evaluation, save model, optimizer and curve to DIR/checkpoints/T{T}-{model}
  --resume           continue each model from its checkpoint when there is one (implies --checkpoint);
                     --steps may be raised to train further; other settings must match the checkpoint
  --plot-only        no training: redraw the plot from the CSV files already in --out for --model
                     (e.g. to combine models trained in separate runs)
  --quick            tiny smoke test: T 20, 30 steps, hidden 16, eval every 10, 200 test sequences, 1 thread
                     (explicit options still win)
  --help             this text";

        /// <summary>
        /// Parses the command line. Options may come in any order; --quick only changes the defaults.
        /// </summary>
        /// <exception cref="ArgumentException">An unknown option, a missing or malformed value.</exception>
        public static Options Parse(IReadOnlyList<string> args)
        {
            var given = new Dictionary<string, string>(StringComparer.Ordinal);
            var models = new List<ModelKind>();
            bool quick = false, help = false, plotOnly = false, checkpoint = false, resume = false;
            for (int i = 0; i < args.Count; i++)
            {
                string arg = args[i];
                string? inlineValue = null;
                int eq = arg.IndexOf('=');
                if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
                {
                    inlineValue = arg[(eq + 1)..];
                    arg = arg[..eq];
                }
                switch (arg)
                {
                    case "--quick":
                        quick = true;
                        continue;
                    case "--plot-only":
                        plotOnly = true;
                        continue;
                    case "--checkpoint":
                        checkpoint = true;
                        continue;
                    case "--resume":
                        resume = true;
                        continue;
                    case "--help":
                    case "-h":
                        help = true;
                        continue;
                    case "--model":
                    case "--length":
                    case "--steps":
                    case "--batch":
                    case "--lr":
                    case "--weight-decay":
                    case "--layers":
                    case "--hidden":
                    case "--seed":
                    case "--eval-every":
                    case "--test-size":
                    case "--threads":
                    case "--out":
                        break;
                    default:
                        throw new ArgumentException($"Unknown option '{args[i]}'. Try --help.");
                }
                string value = inlineValue ?? (i + 1 < args.Count ? args[++i] : throw new ArgumentException($"Option {arg} needs a value."));
                if (arg == "--model")
                    models.AddRange(ParseModels(value));
                else
                    given[arg] = value;
            }

            var o = quick
                ? new Options { Quick = true, Length = 20, Steps = 30, Hidden = 16, EvalEvery = 10, TestSize = 200, Threads = 1 }
                : new Options();
            o = o with
            {
                Help = help,
                PlotOnly = plotOnly,
                Checkpoint = checkpoint || resume,
                Resume = resume,
                Models = models.Count > 0 ? models.Distinct().ToArray() : o.Models,
                Length = Int(given, "--length", o.Length, min: 2),
                Steps = Int(given, "--steps", o.Steps, min: 1),
                Batch = Int(given, "--batch", o.Batch, min: 1),
                LearningRate = Double(given, "--lr", o.LearningRate, allowZero: false),
                WeightDecay = Double(given, "--weight-decay", o.WeightDecay, allowZero: true),
                Layers = Int(given, "--layers", o.Layers, min: 1),
                Hidden = Int(given, "--hidden", o.Hidden, min: 1),
                Seed = Int(given, "--seed", o.Seed, min: int.MinValue),
                EvalEvery = Int(given, "--eval-every", o.EvalEvery, min: 1),
                TestSize = Int(given, "--test-size", o.TestSize, min: 1),
                Threads = given.ContainsKey("--threads") ? Int(given, "--threads", 1, min: 1) : o.Threads,
                OutputDirectory = given.TryGetValue("--out", out var dir) ? dir : o.OutputDirectory,
            };
            return o;
        }

        /// <summary>The lower-case name used on the command line, in file names and in the report.</summary>
        public static string Name(ModelKind kind) => kind switch
        {
            ModelKind.DuRnn => "durnn",
            ModelKind.IndRnn => "indrnn",
            ModelKind.Lstm => "lstm",
            ModelKind.Gru => "gru",
            ModelKind.DuRnnNoGate => "durnn-nogate",
            ModelKind.DuRnnNoShortTerm => "durnn-noshort",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };

        private static IEnumerable<ModelKind> ParseModels(string value)
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return part.ToLowerInvariant() switch
                {
                    "durnn" => ModelKind.DuRnn,
                    "indrnn" => ModelKind.IndRnn,
                    "lstm" => ModelKind.Lstm,
                    "gru" => ModelKind.Gru,
                    "durnn-nogate" => ModelKind.DuRnnNoGate,
                    "durnn-noshort" => ModelKind.DuRnnNoShortTerm,
                    _ => throw new ArgumentException($"Unknown model '{part}': use durnn, indrnn, lstm, gru, durnn-nogate or durnn-noshort."),
                };
            }
        }

        private static int Int(Dictionary<string, string> given, string name, int fallback, int min)
        {
            if (!given.TryGetValue(name, out var s)) return fallback;
            if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                throw new ArgumentException($"{name} needs an integer; got '{s}'.");
            if (v < min)
                throw new ArgumentException($"{name} must be at least {min}; got {v}.");
            return v;
        }

        private static double Double(Dictionary<string, string> given, string name, double fallback, bool allowZero)
        {
            if (!given.TryGetValue(name, out var s)) return fallback;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new ArgumentException($"{name} needs a number; got '{s}'.");
            if (v < 0 || (v == 0 && !allowZero))
                throw new ArgumentException($"{name} must be {(allowZero ? "≥ 0" : "> 0")}; got {s}.");
            return v;
        }

        /// <summary>
        /// samples/AddingProblem/out (ignored by git) when the sample's source folder, recorded at build time, still
        /// exists; ./out otherwise.
        /// </summary>
        private static string DefaultOutputDirectory()
        {
            string? projectDir = typeof(Options).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "ProjectDirectory")?.Value;
            return projectDir is not null && Directory.Exists(projectDir)
                ? Path.Combine(projectDir, "out")
                : Path.Combine(Environment.CurrentDirectory, "out");
        }
    }
}
