using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>The recurrent models this sample can train.</summary>
    internal enum ModelKind
    {
        /// <summary>The library's <see cref="DuRnn.DuRNN"/> stack.</summary>
        DuRnn,

        /// <summary>The library's <see cref="DuRnn.IndRNN"/> stack.</summary>
        IndRnn,

        /// <summary>TorchSharp's nn.LSTM.</summary>
        Lstm,

        /// <summary>TorchSharp's nn.GRU.</summary>
        Gru,

        /// <summary>Ablation: DuRNN without the selection gate (g = 1, frozen).</summary>
        DuRnnNoGate,

        /// <summary>Ablation: DuRNN without short-term recurrence (U_s = 0, frozen).</summary>
        DuRnnNoShortTerm,

        /// <summary>The library's <see cref="DuRnn.IndRNN"/> with DuRNN's initialisation and learning-rate rule
        /// (<c>longTermInputWeightStd: null</c>, <c>ParameterGroups</c>): separates the rule from the architecture.</summary>
        IndRnnScaled,
    }

    /// <summary>The settings of a run, read from the command line by <see cref="Settings"/>.</summary>
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

        /// <summary>φ of DuRNN's short-term cells (the library's default: ReLU).</summary>
        public ShortTermActivation ShortTermActivation { get; init; } = ShortTermActivation.ReLU;

        /// <summary>
        /// DuRNN: the factor on the learning rate of u in the long-memory (last) layer instead of the library's
        /// (<see cref="LongTermCell.DefaultRecurrentLearningRateScale"/>, √(100/T) beyond T = 100); null (default) keeps
        /// the library's groups. 1 is the rule up to version 0.2.0 (u at lr), with which the T*-defaults runs trained.
        /// </summary>
        public double? RecurrentLearningRateScale { get; init; }

        /// <summary>The factor u of the long-memory layer trains with: the one given, or the library's at this length.</summary>
        public double EffectiveRecurrentLearningRateScale =>
            RecurrentLearningRateScale ?? LongTermCell.DefaultRecurrentLearningRateScale(Length, longMemoryInit: true);

        /// <summary>
        /// The library options and DuRNN's learning-rate factors given other values than the defaults, as "name=value"
        /// words (empty when none): part of the checkpoint fingerprint and of the header line.
        /// </summary>
        public string LibraryOptions => string.Join(" ", new[]
        {
            ShortTermActivation == ShortTermActivation.ReLU ? "" : $"short_term={CommandLine.Lower(ShortTermActivation)}",
            // The factor in effect, given or not: a checkpoint of 0.2.0's groups (u at lr, no word) resumes only with
            // --u-lr-scale 1, and one of a run given the library's factor to the double resumes without the option.
            EffectiveRecurrentLearningRateScale == 1.0 ? "" : $"u_lr_scale={EffectiveRecurrentLearningRateScale:R}",
        }.Where(word => word.Length > 0));

        /// <summary>The number of recurrent layers.</summary>
        public int Layers { get; init; } = 2;

        /// <summary>The number of hidden units per layer.</summary>
        public int Hidden { get; init; } = 128;

        /// <summary>The models to train, in order, one after the other.</summary>
        public IReadOnlyList<ModelKind> Models { get; init; } = new[] { ModelKind.DuRnn };

        /// <summary>Seeds torch's generator and the training-data generator.</summary>
        public int Seed { get; init; } = 1;

        /// <summary>The folder for the CSV files and the plot.</summary>
        public string OutputDirectory { get; init; } = SampleFolders.DefaultOutputDirectory();

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

        /// <summary>Whether --stop-when-solved was given: end a model's training once it is solved (<see cref="Solved"/>).</summary>
        public bool StopWhenSolved { get; init; }

        /// <summary>Whether --quick was given (a tiny smoke-test configuration).</summary>
        public bool Quick { get; init; }

        /// <summary>Whether --plot-only was given: redraw the plot from the CSV files in --out, without training.</summary>
        public bool PlotOnly { get; init; }

        /// <summary>Whether --error-by-position was given: report the checkpoint's test error by where the marked steps lie (<see cref="AddingProblem.ErrorByPosition"/>), without training.</summary>
        public bool ErrorByPosition { get; init; }

        /// <summary>The lower-case name used on the command line, in file names and in the report.</summary>
        public static string Name(ModelKind kind) => kind switch
        {
            ModelKind.DuRnn => "durnn",
            ModelKind.IndRnn => "indrnn",
            ModelKind.Lstm => "lstm",
            ModelKind.Gru => "gru",
            ModelKind.DuRnnNoGate => "durnn-nogate",
            ModelKind.DuRnnNoShortTerm => "durnn-noshort",
            ModelKind.IndRnnScaled => "indrnn-scaled",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    /// <summary>
    /// The command line of the sample (Spectre.Console.Cli, which also writes --help from the attributes): each
    /// property holds the value of its [CommandOption] as given, null (or false) when it was not given.
    /// <see cref="ToOptions"/> turns them into <see cref="Options"/>; --quick only changes the defaults, so options
    /// given explicitly still win.
    /// </summary>
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--model <M>"), Description("durnn | indrnn | lstm | gru | durnn-nogate | durnn-noshort | indrnn-scaled; comma-separated or repeated (default durnn); durnn-nogate and durnn-noshort are ablations (g = 1, or U_s = 0); indrnn-scaled is IndRNN with DuRNN's initialisation and learning-rate rule")]
        public string[]? Models { get; init; }

        [CommandOption("--length <T>"), Description("sequence length (default 100)")]
        public string? Length { get; init; }

        [CommandOption("--steps <N>"), Description("training steps per model (default 500)")]
        public string? Steps { get; init; }

        [CommandOption("--batch <B>"), Description("mini-batch size (default 32)")]
        public string? Batch { get; init; }

        [CommandOption("--lr <X>"), Description("Adam learning rate (default 2e-4)")]
        public string? LearningRate { get; init; }

        [CommandOption("--weight-decay <X>"), Description("L2 weight decay on weight matrices, not on u or biases (default 1e-4; 0 = plain Adam)")]
        public string? WeightDecay { get; init; }

        [CommandOption("--short-term <A>"), Description("DuRNN: φ of the short-term cells, relu (the library's default) or tanh")]
        public string? ShortTermActivation { get; init; }

        [CommandOption("--u-lr-scale <X>"), Description("DuRNN: factor on the learning rate of u in the long-memory last layer instead of the library's (√(100/T) beyond T = 100; 1 = version 0.2.0's)")]
        public string? RecurrentLearningRateScale { get; init; }

        [CommandOption("--layers <L>"), Description("recurrent layers (default 2)")]
        public string? Layers { get; init; }

        [CommandOption("--hidden <H>"), Description("units per layer (default 128)")]
        public string? Hidden { get; init; }

        [CommandOption("--seed <S>"), Description("seed of torch and of the training data (default 1)")]
        public string? Seed { get; init; }

        [CommandOption("--eval-every <N>"), Description("evaluate on the test set every N steps (default 50)")]
        public string? EvalEvery { get; init; }

        [CommandOption("--test-size <N>"), Description("sequences in the fixed test set (default 1000)")]
        public string? TestSize { get; init; }

        [CommandOption("--threads <N>"), Description("torch intra-op threads (default: one per core; 1 with --quick)")]
        public string? Threads { get; init; }

        [CommandOption("--out <DIR>"), Description("folder for the CSV files and the PNG plot (default samples/AddingProblem/out)")]
        public string? OutputDirectory { get; init; }

        [CommandOption("--checkpoint"), Description("after every evaluation, save model, optimizer and curve to DIR/checkpoints/T{T}-{model}")]
        public bool Checkpoint { get; init; }

        [CommandOption("--resume"), Description("continue each model from its checkpoint when there is one (implies --checkpoint); --steps may be raised to train further; other settings must match the checkpoint")]
        public bool Resume { get; init; }

        [CommandOption("--stop-when-solved"), Description("end a model's training once it is solved: test MSE below 0.01 at three consecutive evaluations (--steps stays the cap)")]
        public bool StopWhenSolved { get; init; }

        [CommandOption("--plot-only"), Description("no training: redraw the plot from the CSV files already in --out for --model (e.g. to combine models trained in separate runs)")]
        public bool PlotOnly { get; init; }

        [CommandOption("--error-by-position"), Description("no training: load each --model's checkpoint in --out (made with the same settings) and report its test MSE and how much of each marked value it carries, by where the marked steps lie; writes adding-T{T}-{model}-by-position.csv")]
        public bool ErrorByPosition { get; init; }

        [CommandOption("--quick"), Description("tiny smoke test: T 20, 30 steps, hidden 16, eval every 10, 200 test sequences, 1 thread (explicit options still win)")]
        public bool Quick { get; init; }

        /// <summary>The run these options ask for.</summary>
        /// <exception cref="ArgumentException">A bad value; the message names the option.</exception>
        public Options ToOptions()
        {
            var o = Quick
                ? new Options { Quick = true, Length = 20, Steps = 30, Hidden = 16, EvalEvery = 10, TestSize = 200, Threads = 1 }
                : new Options();
            if (PlotOnly && ErrorByPosition)
                throw new ArgumentException("--plot-only and --error-by-position exclude each other: give one.");
            return o with
            {
                PlotOnly = PlotOnly,
                ErrorByPosition = ErrorByPosition,
                StopWhenSolved = StopWhenSolved,
                Checkpoint = Checkpoint || Resume,
                Resume = Resume,
                Models = CommandLine.Choices(Models, "--model", Options.Name, o.Models),
                Length = CommandLine.Int(Length, "--length", o.Length, min: 2),
                Steps = CommandLine.Int(Steps, "--steps", o.Steps, min: 1),
                Batch = CommandLine.Int(Batch, "--batch", o.Batch, min: 1),
                LearningRate = CommandLine.Double(LearningRate, "--lr", o.LearningRate, allowZero: false),
                WeightDecay = CommandLine.Double(WeightDecay, "--weight-decay", o.WeightDecay, allowZero: true),
                ShortTermActivation = CommandLine.Choice(ShortTermActivation, "--short-term", CommandLine.Lower, o.ShortTermActivation),
                RecurrentLearningRateScale = CommandLine.Double(RecurrentLearningRateScale, "--u-lr-scale", (double?)null, allowZero: false),
                Layers = CommandLine.Int(Layers, "--layers", o.Layers, min: 1),
                Hidden = CommandLine.Int(Hidden, "--hidden", o.Hidden, min: 1),
                Seed = CommandLine.Int(Seed, "--seed", o.Seed, min: int.MinValue),
                EvalEvery = CommandLine.Int(EvalEvery, "--eval-every", o.EvalEvery, min: 1),
                TestSize = CommandLine.Int(TestSize, "--test-size", o.TestSize, min: 1),
                Threads = CommandLine.Int(Threads, "--threads", o.Threads, min: 1),
                OutputDirectory = OutputDirectory ?? o.OutputDirectory,
            };
        }

        /// <summary>Checks every value (Spectre.Console.Cli calls this before the command runs).</summary>
        public override ValidationResult Validate() => CommandLine.Validate(() => ToOptions());
    }

    /// <summary>The sample's one command: trains (or, with --plot-only, redraws; with --error-by-position, reports) with the options given.</summary>
    internal sealed class TrainCommand : SampleCommand<Settings>
    {
        /// <inheritdoc/>
        public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
            Program.Run(settings.ToOptions());
    }
}
