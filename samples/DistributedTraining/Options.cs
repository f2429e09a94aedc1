using System;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DuRnn.Samples.DistributedTraining
{
    /// <summary>The settings of a run, read from the command line by <see cref="Settings"/>; the same on every rank.</summary>
    internal sealed record Options
    {
        /// <summary>T, the number of steps of every sequence.</summary>
        public int Length { get; init; } = 100;

        /// <summary>The number of training steps (each one mini-batch of <see cref="Batch"/> sequences over all ranks).</summary>
        public int Steps { get; init; } = 300;

        /// <summary>The global mini-batch: every rank takes <see cref="Batch"/> / ranks sequences per step.</summary>
        public int Batch { get; init; } = 32;

        /// <summary>The number of sequences in the fixed training set that the ranks share.</summary>
        public int TrainSize { get; init; } = 8192;

        /// <summary>Adam's learning rate (the AddingProblem sample's, IndRNN's recipe).</summary>
        public double LearningRate { get; init; } = 2e-4;

        /// <summary>L2 weight decay on weight matrices (not on u, not on biases).</summary>
        public double WeightDecay { get; init; } = 1e-4;

        /// <summary>The number of DuRNN layers.</summary>
        public int Layers { get; init; } = 2;

        /// <summary>The number of hidden units per layer.</summary>
        public int Hidden { get; init; } = 128;

        /// <summary>The seed of torch (the weights), of the training set and of the sampler's permutations.</summary>
        public int Seed { get; init; } = 1;

        /// <summary>Evaluate on the test set every this many steps.</summary>
        public int EvalEvery { get; init; } = 50;

        /// <summary>The number of sequences in the fixed test set (shared out among the ranks to evaluate).</summary>
        public int TestSize { get; init; } = 1000;

        /// <summary>torch's intra-op threads per rank.</summary>
        public int Threads { get; init; } = 1;

        /// <summary>The folder for the CSV file (written by rank 0).</summary>
        public string OutputDirectory { get; init; } = SampleFolders.DefaultOutputDirectory();

        /// <summary>Whether --quick was given (a tiny smoke-test configuration).</summary>
        public bool Quick { get; init; }
    }

    /// <summary>
    /// The command line of the sample (Spectre.Console.Cli, which also writes --help from the attributes): each
    /// property holds the value of its [CommandOption] as given, null (or false) when it was not given.
    /// <see cref="ToOptions"/> turns them into <see cref="Options"/>; --quick only changes the defaults.
    /// </summary>
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--length <T>"), Description("sequence length (default 100)")]
        public string? Length { get; init; }

        [CommandOption("--steps <N>"), Description("training steps (default 300)")]
        public string? Steps { get; init; }

        [CommandOption("--batch <B>"), Description("global mini-batch, split equally among the ranks: a multiple of the number of ranks (default 32)")]
        public string? Batch { get; init; }

        [CommandOption("--train-size <N>"), Description("sequences in the fixed training set, sharded among the ranks every epoch (default 8192)")]
        public string? TrainSize { get; init; }

        [CommandOption("--layers <L>"), Description("DuRNN layers (default 2)")]
        public string? Layers { get; init; }

        [CommandOption("--hidden <H>"), Description("units per layer (default 128)")]
        public string? Hidden { get; init; }

        [CommandOption("--seed <S>"), Description("seed of the weights, the training set and the shuffling (default 1)")]
        public string? Seed { get; init; }

        [CommandOption("--eval-every <N>"), Description("evaluate on the test set every N steps (default 50)")]
        public string? EvalEvery { get; init; }

        [CommandOption("--threads <N>"), Description("torch intra-op threads per rank (default 1: one rank per core)")]
        public string? Threads { get; init; }

        [CommandOption("--out <DIR>"), Description("folder for the CSV file of the learning curve (default samples/DistributedTraining/out)")]
        public string? OutputDirectory { get; init; }

        [CommandOption("--quick"), Description("tiny smoke test: T 20, 30 steps, hidden 16, training set 512, eval every 10, 200 test sequences (explicit options still win)")]
        public bool Quick { get; init; }

        /// <summary>The run these options ask for.</summary>
        /// <exception cref="ArgumentException">A bad value; the message names the option.</exception>
        public Options ToOptions()
        {
            var o = Quick
                ? new Options { Quick = true, Length = 20, Steps = 30, Hidden = 16, TrainSize = 512, EvalEvery = 10, TestSize = 200 }
                : new Options();
            return o with
            {
                Length = CommandLine.Int(Length, "--length", o.Length, min: 2),
                Steps = CommandLine.Int(Steps, "--steps", o.Steps, min: 1),
                Batch = CommandLine.Int(Batch, "--batch", o.Batch, min: 1),
                TrainSize = CommandLine.Int(TrainSize, "--train-size", o.TrainSize, min: 1),
                Layers = CommandLine.Int(Layers, "--layers", o.Layers, min: 1),
                Hidden = CommandLine.Int(Hidden, "--hidden", o.Hidden, min: 1),
                Seed = CommandLine.Int(Seed, "--seed", o.Seed, min: int.MinValue),
                EvalEvery = CommandLine.Int(EvalEvery, "--eval-every", o.EvalEvery, min: 1),
                Threads = CommandLine.Int(Threads, "--threads", o.Threads, min: 1),
                OutputDirectory = OutputDirectory ?? o.OutputDirectory,
            };
        }

        /// <summary>Checks every value (Spectre.Console.Cli calls this before the command runs).</summary>
        public override ValidationResult Validate() => CommandLine.Validate(() => ToOptions());
    }

    /// <summary>The sample's one command: trains with the options given, on every rank.</summary>
    internal sealed class TrainCommand : SampleCommand<Settings>
    {
        /// <inheritdoc/>
        public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
            Program.Run(settings.ToOptions());
    }
}
