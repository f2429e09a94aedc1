using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>How an image becomes a sequence.</summary>
    internal enum SequenceMode
    {
        /// <summary>T = 28 steps, one image row (28 pixels) per step.</summary>
        Row,

        /// <summary>T = 784 steps, one pixel per step (sequential MNIST's protocol).</summary>
        Pixel,
    }

    /// <summary>The recurrent models this sample can train.</summary>
    internal enum ModelKind
    {
        /// <summary>The library's <see cref="DuRnn.DuRNN"/> stack.</summary>
        DuRnn,

        /// <summary>TorchSharp's nn.LSTM, sized to about the DuRNN's parameter count.</summary>
        Lstm,

        /// <summary>TorchSharp's nn.GRU, sized to about the DuRNN's parameter count.</summary>
        Gru,
    }

    /// <summary>The command line of the sample, parsed and checked.</summary>
    internal sealed record Options
    {
        /// <summary>Where Debian's dataset-fashion-mnist package puts the four IDX files.</summary>
        public const string DebianDataDirectory = "/usr/share/datasets/fashion-mnist";

        /// <summary>Row or pixel sequences.</summary>
        public SequenceMode Mode { get; init; } = SequenceMode.Row;

        /// <summary>The models to train, in order, one after the other.</summary>
        public IReadOnlyList<ModelKind> Models { get; init; } = new[] { ModelKind.DuRnn };

        /// <summary>The number of passes over the training set per model.</summary>
        public int Epochs { get; init; } = 10;

        /// <summary>The mini-batch size B.</summary>
        public int Batch { get; init; } = 128;

        /// <summary>Adam's learning rate (the default depends on the mode, see <see cref="DefaultLearningRate"/>).</summary>
        public double LearningRate { get; init; }

        /// <summary>The number of DuRNN hidden units per layer (H = S); LSTM and GRU are sized to match its parameter count.</summary>
        public int Hidden { get; init; } = 128;

        /// <summary>The number of recurrent layers of every model.</summary>
        public int Layers { get; init; } = 2;

        /// <summary>MAG in DuRNN's U_bound = MAG^(1/T) (default 2 in row mode, 5 in pixel mode as IndRNN's MNIST).</summary>
        public double Mag { get; init; }

        /// <summary>Whether the DuRNN uses BatchNorm between layers.</summary>
        public bool BatchNorm { get; init; }

        /// <summary>Whether the DuRNN classifier puts a BatchNorm1d on the last step's output before its readout.</summary>
        public bool ReadoutNorm { get; init; }

        /// <summary>Seeds torch's generator (before each model is built) and the shuffling.</summary>
        public int Seed { get; init; } = 1;

        /// <summary>The folder holding the four IDX files.</summary>
        public string DataDirectory { get; init; } = DebianDataDirectory;

        /// <summary>The folder for the CSV files and the plots.</summary>
        public string OutputDirectory { get; init; } = DefaultOutputDirectory();

        /// <summary>torch.set_num_threads.</summary>
        public int Threads { get; init; } = 2;

        /// <summary>Use only the first this many training images (null: all 60,000).</summary>
        public int? TrainLimit { get; init; }

        /// <summary>Use only the first this many test images (null: all 10,000).</summary>
        public int? TestLimit { get; init; }

        /// <summary>Whether --quick was given (a tiny smoke-test configuration).</summary>
        public bool Quick { get; init; }

        /// <summary>Whether --help was given.</summary>
        public bool Help { get; init; }

        /// <summary>T, the number of steps of every sequence.</summary>
        public int SequenceLength => Mode == SequenceMode.Row ? 28 : 784;

        /// <summary>I, the number of features per step.</summary>
        public int InputSize => Mode == SequenceMode.Row ? 28 : 1;

        /// <summary>The learning rate used when --lr is not given: 1e-3 in row mode, 2e-4 (IndRNN's) in pixel mode.</summary>
        public static double DefaultLearningRate(SequenceMode mode) => mode == SequenceMode.Row ? 1e-3 : 2e-4;

        /// <summary>MAG used when --mag is not given: 2 in row mode, 5 in pixel mode (IndRNN's pixel MNIST).</summary>
        public static double DefaultMag(SequenceMode mode) => mode == SequenceMode.Row ? 2 : 5;

        /// <summary>The option summary printed by --help.</summary>
        public const string Usage =
@"Sequential Fashion-MNIST: classify 28×28 clothing images read as sequences, DuRNN against LSTM and GRU.

Usage: dotnet run -c Release --project samples/SequentialFashionMnist -- [options]

  --mode row|pixel   row: T = 28 steps of 28 pixels (default); pixel: T = 784 steps of 1 pixel
  --model M[,M...]   durnn | lstm | gru; comma-separated or repeated (default durnn)
  --epochs N         passes over the training set per model (default 10)
  --batch B          mini-batch size (default 128)
  --lr X             Adam's learning rate (default 1e-3 in row mode, 2e-4 in pixel mode)
  --hidden H         DuRNN units per layer (default 128); LSTM and GRU get the hidden size
                     that gives about the same number of parameters
  --layers L         recurrent layers of every model (default 2)
  --mag X            DuRNN's MAG in U_bound = MAG^(1/T) (default 2 in row mode, 5 in pixel mode)
  --batchnorm        BatchNorm between the DuRNN's layers
  --readout-norm     BatchNorm on the DuRNN's last-step output before the readout
  --seed S           seeds torch (before each model is built) and the shuffling (default 1)
  --train-limit N    use only the first N training images (default all 60000)
  --test-limit N     use only the first N test images (default all 10000)
  --data DIR         folder with the four IDX files (default /usr/share/datasets/fashion-mnist)
  --out DIR          folder for the CSV files and plots (default samples/SequentialFashionMnist/out)
  --threads N        torch.set_num_threads (default 2; use 1 on a busy machine)
  --quick            smoke test: 2000 training and 1000 test images, 1 epoch, hidden 32, row mode
  --help             this text";

        /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with a readable message on a bad one.</summary>
        /// <param name="args">The arguments after the program name.</param>
        public static Options Parse(string[] args)
        {
            var given = new Dictionary<string, string>();
            var models = new List<ModelKind>();
            bool quick = false, help = false, batchNorm = false, readoutNorm = false;
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                switch (a)
                {
                    case "--quick": quick = true; break;
                    case "--help": case "-h": help = true; break;
                    case "--batchnorm": batchNorm = true; break;
                    case "--readout-norm": readoutNorm = true; break;
                    case "--model":
                        foreach (var name in Value(args, ref i, a).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                            models.Add(ParseModel(name));
                        break;
                    case "--mode": case "--epochs": case "--batch": case "--lr": case "--hidden": case "--layers":
                    case "--mag": case "--seed": case "--train-limit": case "--test-limit": case "--data": case "--out":
                    case "--threads":
                        given[a] = Value(args, ref i, a);
                        break;
                    default:
                        throw new ArgumentException($"unknown option '{a}' (see --help).");
                }
            }

            var o = new Options();
            if (quick)
            {
                // Seconds on two cores: enough to show that every part runs and writes its outputs.
                o = o with { Mode = SequenceMode.Row, Epochs = 1, Hidden = 32, TrainLimit = 2000, TestLimit = 1000 };
            }
            var mode = given.TryGetValue("--mode", out var m) ? ParseMode(m) : o.Mode;
            return o with
            {
                Mode = mode,
                Models = models.Count > 0 ? models.Distinct().ToArray() : o.Models,
                Epochs = Int(given, "--epochs", o.Epochs, 1),
                Batch = Int(given, "--batch", o.Batch, 1),
                LearningRate = Double(given, "--lr", DefaultLearningRate(mode)),
                Hidden = Int(given, "--hidden", o.Hidden, 1),
                Layers = Int(given, "--layers", o.Layers, 1),
                Mag = Double(given, "--mag", DefaultMag(mode)),
                BatchNorm = batchNorm,
                ReadoutNorm = readoutNorm,
                Seed = Int(given, "--seed", o.Seed, 0),
                TrainLimit = given.ContainsKey("--train-limit") ? Int(given, "--train-limit", 0, 1) : o.TrainLimit,
                TestLimit = given.ContainsKey("--test-limit") ? Int(given, "--test-limit", 0, 1) : o.TestLimit,
                DataDirectory = given.TryGetValue("--data", out var d) ? d : o.DataDirectory,
                OutputDirectory = given.TryGetValue("--out", out var dir) ? dir : o.OutputDirectory,
                Threads = Int(given, "--threads", o.Threads, 1),
                Quick = quick,
                Help = help,
            };
        }

        private static string Value(string[] args, ref int i, string name)
        {
            if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value (see --help).");
            return args[++i];
        }

        private static ModelKind ParseModel(string name) => name.ToLowerInvariant() switch
        {
            "durnn" => ModelKind.DuRnn,
            "lstm" => ModelKind.Lstm,
            "gru" => ModelKind.Gru,
            _ => throw new ArgumentException($"unknown model '{name}': use durnn, lstm or gru."),
        };

        private static SequenceMode ParseMode(string name) => name.ToLowerInvariant() switch
        {
            "row" => SequenceMode.Row,
            "pixel" => SequenceMode.Pixel,
            _ => throw new ArgumentException($"unknown mode '{name}': use row or pixel."),
        };

        private static int Int(Dictionary<string, string> given, string name, int fallback, int min)
        {
            if (!given.TryGetValue(name, out var s)) return fallback;
            if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                throw new ArgumentException($"{name} needs a whole number; got '{s}'.");
            if (v < min) throw new ArgumentException($"{name} must be ≥ {min}; got {s}.");
            return v;
        }

        private static double Double(Dictionary<string, string> given, string name, double fallback)
        {
            if (!given.TryGetValue(name, out var s)) return fallback;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v <= 0)
                throw new ArgumentException($"{name} needs a positive number; got '{s}'.");
            return v;
        }

        /// <summary>
        /// samples/SequentialFashionMnist/out (ignored by git) when the sample's source folder, recorded at build time,
        /// still exists; ./out otherwise.
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
