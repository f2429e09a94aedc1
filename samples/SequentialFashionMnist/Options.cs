using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>How an image becomes a sequence.</summary>
    internal enum SequenceMode
    {
        /// <summary>T = 28 steps, one image row (28 pixels) per step.</summary>
        Row,

        /// <summary>T = 784 steps, one pixel per step (sequential MNIST's protocol).</summary>
        Pixel,

        /// <summary>
        /// T = 784 steps, one pixel per step in one fixed random order of the pixels (permuted MNIST's protocol: the
        /// order, drawn from <see cref="Options.PermutationSeed"/>, spreads the dependencies over the whole sequence).
        /// </summary>
        Permuted,
    }

    /// <summary>The recurrent models this sample can train.</summary>
    internal enum ModelKind
    {
        /// <summary>The library's <see cref="DuRnn.DuRNN"/> stack.</summary>
        DuRnn,

        /// <summary>The library's <see cref="DuRnn.IndRNN"/> stack with IndRNN's sequential-MNIST recipe, sized to about the DuRNN's parameter count.</summary>
        IndRnn,

        /// <summary>TorchSharp's nn.LSTM, sized to about the DuRNN's parameter count.</summary>
        Lstm,

        /// <summary>TorchSharp's nn.GRU, sized to about the DuRNN's parameter count.</summary>
        Gru,
    }

    /// <summary>The settings of a run, read from the command line by <see cref="Settings"/>.</summary>
    internal sealed record Options
    {
        /// <summary>Where Debian's dataset-fashion-mnist package puts the four IDX files.</summary>
        public const string DebianDataDirectory = "/usr/share/datasets/fashion-mnist";

        /// <summary>Row or pixel sequences.</summary>
        public SequenceMode Mode { get; init; } = SequenceMode.Row;

        /// <summary>The models to train, in order, one after the other.</summary>
        public IReadOnlyList<ModelKind> Models { get; init; } = new[] { ModelKind.DuRnn };

        /// <summary>The seed of the fixed pixel order of <see cref="SequenceMode.Permuted"/>.</summary>
        public const int DefaultPermutationSeed = 20180304;

        /// <summary>The number of passes over the training set per model (with a budget: at most this many; null: no limit).</summary>
        public int? Epochs { get; init; } = 10;

        /// <summary>Train each model for this many minutes of training time (evaluations excluded); null: no time budget.</summary>
        public double? BudgetMinutes { get; init; }

        /// <summary>Which time <see cref="BudgetMinutes"/> and <see cref="EvalMinutes"/> count.</summary>
        public BudgetClock BudgetClock { get; init; } = BudgetClock.Wall;

        /// <summary>Evaluate on the test set every this many minutes of training time; null: after every epoch.</summary>
        public double? EvalMinutes { get; init; }

        /// <summary>The seed of the pixel order in permuted mode.</summary>
        public int PermutationSeed { get; init; } = DefaultPermutationSeed;

        /// <summary>The number of layers of the IndRNN model (IndRNN's sequential-MNIST recipe: 6).</summary>
        public int IndRnnLayers { get; init; } = 6;

        /// <summary>Whether --checkpoint was given: save a checkpoint after every evaluation.</summary>
        public bool Checkpoint { get; init; }

        /// <summary>Whether --resume was given: continue from the checkpoint if there is one (implies --checkpoint).</summary>
        public bool Resume { get; init; }

        /// <summary>Whether --plot-only was given: redraw the plots and summary from the CSV files in --out, without training.</summary>
        public bool PlotOnly { get; init; }

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

        /// <summary>Whether nn.LSTM and nn.GRU get BatchNorm between their layers (one module a layer).</summary>
        public bool BaselineBatchNorm { get; init; }

        /// <summary>Seeds torch's generator (before each model is built) and the shuffling.</summary>
        public int Seed { get; init; } = 1;

        /// <summary>The folder holding the four IDX files.</summary>
        public string DataDirectory { get; init; } = DebianDataDirectory;

        /// <summary>The folder for the CSV files and the plots.</summary>
        public string OutputDirectory { get; init; } = SampleFolders.DefaultOutputDirectory();

        /// <summary>torch.set_num_threads.</summary>
        public int Threads { get; init; } = 2;

        /// <summary>Use only the first this many training images (null: all 60,000).</summary>
        public int? TrainLimit { get; init; }

        /// <summary>Use only the first this many test images (null: all 10,000).</summary>
        public int? TestLimit { get; init; }

        /// <summary>Whether --quick was given (a tiny smoke-test configuration).</summary>
        public bool Quick { get; init; }

        /// <summary>T, the number of steps of every sequence.</summary>
        public int SequenceLength => Mode == SequenceMode.Row ? 28 : 784;

        /// <summary>The lower-case name of a model, used on the command line, in file names and in the report.</summary>
        public static string Name(ModelKind kind) => kind.ToString().ToLowerInvariant();

        /// <summary>I, the number of features per step.</summary>
        public int InputSize => Mode == SequenceMode.Row ? 28 : 1;

        /// <summary>The learning rate used when --lr is not given: 1e-3 in row mode, 2e-4 (IndRNN's) in pixel mode.</summary>
        public static double DefaultLearningRate(SequenceMode mode) => mode == SequenceMode.Row ? 1e-3 : 2e-4;

        /// <summary>MAG used when --mag is not given: 2 in row mode, 5 in the pixel modes (IndRNN's pixel MNIST).</summary>
        public static double DefaultMag(SequenceMode mode) => mode == SequenceMode.Row ? 2 : 5;
    }

    /// <summary>
    /// The command line of the sample (Spectre.Console.Cli, which also writes --help from the attributes): each
    /// property holds the value of its [CommandOption] as given, null (or false) when it was not given.
    /// <see cref="ToOptions"/> turns them into <see cref="Options"/>; --quick only changes the defaults, so options
    /// given explicitly still win.
    /// </summary>
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--mode <MODE>"), Description("row: T = 28 steps of 28 pixels (default); pixel: T = 784 steps of 1 pixel; permuted: T = 784 steps of 1 pixel in a fixed random order")]
        public string? Mode { get; init; }

        [CommandOption("--model <M>"), Description("durnn | indrnn | lstm | gru; comma-separated or repeated (default durnn)")]
        public string[]? Models { get; init; }

        [CommandOption("--epochs <N>"), Description("passes over the training set per model (default 10; with --budget-minutes: no limit unless given)")]
        public string? Epochs { get; init; }

        [CommandOption("--budget-minutes <M>"), Description("train each model for M minutes of training time (evaluations excluded), e.g. 45 for the equal-budget comparison")]
        public string? BudgetMinutes { get; init; }

        [CommandOption("--eval-minutes <M>"), Description("evaluate on the test set every M minutes of training time (default: after every epoch; 5 with --budget-minutes)")]
        public string? EvalMinutes { get; init; }

        [CommandOption("--budget-clock <C>"), Description("what the budget and the evaluation period count: wall (default) or cpu (the process's CPU time during training steps: equal work for runs made side by side on a shared machine)")]
        public string? BudgetClock { get; init; }

        [CommandOption("--permutation-seed <S>"), Description("seed of the fixed pixel order in permuted mode (default 20180304)")]
        public string? PermutationSeed { get; init; }

        [CommandOption("--indrnn-layers <L>"), Description("layers of the IndRNN model (default 6, IndRNN's sequential-MNIST recipe)")]
        public string? IndRnnLayers { get; init; }

        [CommandOption("--checkpoint"), Description("after every evaluation, save model, optimizer and curve to DIR/checkpoints/{mode}-{model}")]
        public bool Checkpoint { get; init; }

        [CommandOption("--resume"), Description("continue each model from its checkpoint when there is one (implies --checkpoint); the budget or epochs may be raised")]
        public bool Resume { get; init; }

        [CommandOption("--plot-only"), Description("no training: redraw the plots and the summary from the CSV files in --out for --model (models trained in separate runs)")]
        public bool PlotOnly { get; init; }

        [CommandOption("--batch <B>"), Description("mini-batch size (default 128)")]
        public string? Batch { get; init; }

        [CommandOption("--lr <X>"), Description("Adam's learning rate (default 1e-3 in row mode, 2e-4 in pixel mode)")]
        public string? LearningRate { get; init; }

        [CommandOption("--hidden <H>"), Description("DuRNN units per layer (default 128); LSTM and GRU get the hidden size that gives about the same number of parameters")]
        public string? Hidden { get; init; }

        [CommandOption("--layers <L>"), Description("recurrent layers of every model (default 2)")]
        public string? Layers { get; init; }

        [CommandOption("--mag <X>"), Description("DuRNN's MAG in U_bound = MAG^(1/T) (default 2 in row mode, 5 in pixel mode)")]
        public string? Mag { get; init; }

        [CommandOption("--batchnorm"), Description("BatchNorm between the DuRNN's layers")]
        public bool BatchNorm { get; init; }

        [CommandOption("--readout-norm"), Description("BatchNorm on the DuRNN's last-step output before the readout")]
        public bool ReadoutNorm { get; init; }

        [CommandOption("--baseline-batchnorm"), Description("BatchNorm between the layers of nn.LSTM and nn.GRU (one module a layer), as --batchnorm for the DuRNN")]
        public bool BaselineBatchNorm { get; init; }

        [CommandOption("--seed <S>"), Description("seeds torch (before each model is built) and the shuffling (default 1)")]
        public string? Seed { get; init; }

        [CommandOption("--train-limit <N>"), Description("use only the first N training images (default all 60000)")]
        public string? TrainLimit { get; init; }

        [CommandOption("--test-limit <N>"), Description("use only the first N test images (default all 10000)")]
        public string? TestLimit { get; init; }

        [CommandOption("--data <DIR>"), Description("folder with the four IDX files (default " + Options.DebianDataDirectory + ")")]
        public string? DataDirectory { get; init; }

        [CommandOption("--out <DIR>"), Description("folder for the CSV files and plots (default samples/SequentialFashionMnist/out)")]
        public string? OutputDirectory { get; init; }

        [CommandOption("--threads <N>"), Description("torch.set_num_threads (default 2; use 1 on a busy machine)")]
        public string? Threads { get; init; }

        [CommandOption("--quick"), Description("smoke test: 2000 training and 1000 test images, 1 epoch, hidden 32, row mode (explicit options still win)")]
        public bool Quick { get; init; }

        /// <summary>The run these options ask for.</summary>
        /// <exception cref="ArgumentException">A bad value; the message names the option.</exception>
        public Options ToOptions()
        {
            var o = Quick
                // Seconds on two cores: enough to show that every part runs and writes its outputs.
                ? new Options { Quick = true, Mode = SequenceMode.Row, Epochs = 1, Hidden = 32, TrainLimit = 2000, TestLimit = 1000 }
                : new Options();
            var mode = CommandLine.Choice(Mode, "--mode", m => m.ToString().ToLowerInvariant(), o.Mode);
            double? budget = CommandLine.Double(BudgetMinutes, "--budget-minutes", null, allowZero: false);
            return o with
            {
                Mode = mode,
                Models = CommandLine.Choices(Models, "--model", Options.Name, o.Models),
                Epochs = CommandLine.Int(Epochs, "--epochs", budget is null ? o.Epochs : null, min: 1),
                BudgetMinutes = budget,
                BudgetClock = CommandLine.Choice(BudgetClock, "--budget-clock", c => c.ToString().ToLowerInvariant(), o.BudgetClock),
                EvalMinutes = CommandLine.Double(EvalMinutes, "--eval-minutes", budget is null ? null : 5, allowZero: false),
                PermutationSeed = CommandLine.Int(PermutationSeed, "--permutation-seed", o.PermutationSeed, min: 0),
                IndRnnLayers = CommandLine.Int(IndRnnLayers, "--indrnn-layers", o.IndRnnLayers, min: 1),
                Checkpoint = Checkpoint || Resume,
                Resume = Resume,
                PlotOnly = PlotOnly,
                Batch = CommandLine.Int(Batch, "--batch", o.Batch, min: 1),
                LearningRate = CommandLine.Double(LearningRate, "--lr", Options.DefaultLearningRate(mode), allowZero: false),
                Hidden = CommandLine.Int(Hidden, "--hidden", o.Hidden, min: 1),
                Layers = CommandLine.Int(Layers, "--layers", o.Layers, min: 1),
                Mag = CommandLine.Double(Mag, "--mag", Options.DefaultMag(mode), allowZero: false),
                BatchNorm = BatchNorm,
                ReadoutNorm = ReadoutNorm,
                BaselineBatchNorm = BaselineBatchNorm,
                Seed = CommandLine.Int(Seed, "--seed", o.Seed, min: 0),
                TrainLimit = CommandLine.Int(TrainLimit, "--train-limit", o.TrainLimit, min: 1),
                TestLimit = CommandLine.Int(TestLimit, "--test-limit", o.TestLimit, min: 1),
                DataDirectory = DataDirectory ?? o.DataDirectory,
                OutputDirectory = OutputDirectory ?? o.OutputDirectory,
                Threads = CommandLine.Int(Threads, "--threads", o.Threads, min: 1),
            };
        }

        /// <summary>Checks every value (Spectre.Console.Cli calls this before the command runs).</summary>
        public override ValidationResult Validate() => CommandLine.Validate(() => ToOptions());
    }

    /// <summary>The sample's one command: trains and evaluates the models with the options given.</summary>
    internal sealed class TrainCommand : SampleCommand<Settings>
    {
        /// <inheritdoc/>
        public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
            Program.Run(settings.ToOptions());
    }
}
