using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using Spectre.Console;
using Spectre.Console.Cli;

namespace DuRnn.Samples.CharLanguageModel
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
    }

    /// <summary>The settings of a run, read from the command line by <see cref="Settings"/>.</summary>
    internal sealed record Options
    {
        /// <summary>The models to train, in order, one after the other.</summary>
        public IReadOnlyList<ModelKind> Models { get; init; } = new[] { ModelKind.DuRnn };

        /// <summary>A UTF-8 text file to train on; null: the King James Bible of Debian's bible-kjv package.</summary>
        public string? TextPath { get; init; }

        /// <summary>Use only the first this many characters of the text (null: all of it).</summary>
        public int? MaxChars { get; init; }

        /// <summary>Training time per model in minutes (evaluations excluded); training stops at this or at <see cref="Steps"/>.</summary>
        public double BudgetMinutes { get; init; } = 30;

        /// <summary>Which time <see cref="BudgetMinutes"/> and <see cref="EvalMinutes"/> count.</summary>
        public BudgetClock BudgetClock { get; init; } = BudgetClock.Wall;

        /// <summary>The most training steps per model (null: no cap; the budget alone stops training).</summary>
        public int? Steps { get; init; }

        /// <summary>Evaluate on the validation part every this many minutes of training time.</summary>
        public double EvalMinutes { get; init; } = 2;

        /// <summary>B, the number of parallel streams the training text is cut into (the mini-batch size).</summary>
        public int Batch { get; init; } = 32;

        /// <summary>The truncated-BPTT chunk: characters per stream and training step.</summary>
        public int Bptt { get; init; } = 100;

        /// <summary>Adam's learning rate.</summary>
        public double LearningRate { get; init; } = 2e-3;

        /// <summary>L2 weight decay on weight matrices (not on biases, not on the recurrent u).</summary>
        public double WeightDecay { get; init; } = 1e-4;

        /// <summary>The number of recurrent layers of every model.</summary>
        public int Layers { get; init; } = 2;

        /// <summary>DuRNN's units per layer (H = S); the other models get the size that matches its parameter count.</summary>
        public int Hidden { get; init; } = 256;

        /// <summary>E, the size of the character embedding.</summary>
        public int Embedding { get; init; } = 64;

        /// <summary>
        /// σ_h of DuRNN's and IndRNN's long-term input weights W_h ~ N(0, σ_h²); null: the library's default (0.001 here,
        /// as there is no maxSequenceLength).
        /// </summary>
        public double? InputWeightStd { get; init; }

        /// <summary>Whether DuRNN and IndRNN put the library's BatchNorm between their layers (IndRNN's own recipe for language models).</summary>
        public bool BatchNorm { get; init; }

        /// <summary>
        /// A bound below the library's U_bound = 1 on DuRNN's and IndRNN's recurrent weights u (u starts U(0, bound) and
        /// is clamped to ±bound after every step), as IndRNN's own character-level Penn Treebank code does (U_bound 0.99);
        /// null: the library's.
        /// </summary>
        public double? RecurrentBound { get; init; }

        /// <summary>φ of DuRNN's short-term cells (the library's default: ReLU).</summary>
        public ShortTermActivation ShortTermActivation { get; init; } = ShortTermActivation.ReLU;

        /// <summary>ρ of DuRNN's short-term constraint ‖U_s‖₂ ≤ ρ; null: the library's (0.9).</summary>
        public double? SpectralBound { get; init; }

        /// <summary>
        /// The settings that differ from the library's defaults for DuRNN and IndRNN, as "name=value" words (empty when
        /// none): part of the checkpoint fingerprint and of the run's report.
        /// </summary>
        public string LibraryOptions => string.Join(" ", new[]
        {
            InputWeightStd is double std ? string.Create(CultureInfo.InvariantCulture, $"input_std={std:R}") : null,
            BatchNorm ? "batch_norm=true" : null,
            RecurrentBound is double bound ? string.Create(CultureInfo.InvariantCulture, $"recurrent_bound={bound:R}") : null,
            ShortTermActivation != ShortTermActivation.ReLU ? $"short_term={CommandLine.Lower(ShortTermActivation)}" : null,
            SpectralBound is double rho ? string.Create(CultureInfo.InvariantCulture, $"spectral_bound={rho:R}") : null,
        }.Where(word => word is not null));

        /// <summary>Seeds torch before each model is built, and the sampling of generated text.</summary>
        public int Seed { get; init; } = 1;

        /// <summary>torch's intra-op threads; null keeps torch's default (one per core).</summary>
        public int? Threads { get; init; }

        /// <summary>The folder for the CSV files, the plot, the generated text and the checkpoints.</summary>
        public string OutputDirectory { get; init; } = SampleFolders.DefaultOutputDirectory();

        /// <summary>Whether --checkpoint was given: save a checkpoint after every evaluation.</summary>
        public bool Checkpoint { get; init; }

        /// <summary>Whether --resume was given: continue from the checkpoint if there is one (implies --checkpoint).</summary>
        public bool Resume { get; init; }

        /// <summary>Whether --plot-only was given: redraw the plot from the CSV files in --out, without training.</summary>
        public bool PlotOnly { get; init; }

        /// <summary>
        /// No training: load each model's checkpoint from the output folder and measure how many units of its last
        /// recurrent layer are silent over the validation text (<see cref="UnitActivity"/>).
        /// </summary>
        public bool Diagnose { get; init; }

        /// <summary>Whether --quick was given (a tiny smoke-test configuration).</summary>
        public bool Quick { get; init; }

        /// <summary>How many characters to generate after training (0: none).</summary>
        public int Generate { get; init; } = 400;

        /// <summary>The sampling temperature of generation (0: always the most likely character).</summary>
        public double Temperature { get; init; } = 0.8;

        /// <summary>The text generation starts from; null: a newline (or, without newlines in the text, its first character).</summary>
        public string? Prompt { get; init; }

        /// <summary>The training budget in seconds.</summary>
        public double BudgetSeconds => BudgetMinutes * 60;

        /// <summary>The evaluation period in seconds of training time.</summary>
        public double EvalSeconds => EvalMinutes * 60;

        /// <summary>
        /// The corpus's short name, the prefix of every output file: "kjv" for the default corpus, the file name
        /// (letters, digits, '-' and '_' only) for --text.
        /// </summary>
        public string CorpusName => TextPath is null ? "kjv" : Sanitize(Path.GetFileNameWithoutExtension(TextPath));

        /// <summary>The lower-case name used on the command line, in file names and in the report.</summary>
        public static string Name(ModelKind kind) => kind switch
        {
            ModelKind.DuRnn => "durnn",
            ModelKind.IndRnn => "indrnn",
            ModelKind.Lstm => "lstm",
            ModelKind.Gru => "gru",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };

        /// <summary><paramref name="name"/> with every character but ASCII letters, digits, '-' and '_' replaced by '_'.</summary>
        private static string Sanitize(string name)
        {
            var text = new StringBuilder();
            foreach (char c in name)
                text.Append(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_' ? c : '_');
            return text.Length > 0 ? text.ToString() : "text";
        }
    }

    /// <summary>
    /// The command line of the sample (Spectre.Console.Cli, which also writes --help from the attributes): each
    /// property holds the value of its [CommandOption] as given, null (or false) when it was not given.
    /// <see cref="ToOptions"/> turns them into <see cref="Options"/>; --quick only changes the defaults, so options
    /// given explicitly still win.
    /// </summary>
    internal sealed class Settings : CommandSettings
    {
        /// <summary>--model.</summary>
        [CommandOption("--model <M>"), Description("durnn | indrnn | lstm | gru; comma-separated or repeated, trained one after the other (default durnn)")]
        public string[]? Models { get; init; }

        /// <summary>--text.</summary>
        [CommandOption("--text <FILE>"), Description("train on this UTF-8 text file instead of the King James Bible (Debian's bible-kjv)")]
        public string? TextPath { get; init; }

        /// <summary>--max-chars.</summary>
        [CommandOption("--max-chars <N>"), Description("use only the first N characters of the text (default all; 200000 with --quick)")]
        public string? MaxChars { get; init; }

        /// <summary>--budget-minutes.</summary>
        [CommandOption("--budget-minutes <M>"), Description("training time per model in minutes, evaluations excluded (default 30); stops at this or --steps, whichever comes first")]
        public string? BudgetMinutes { get; init; }

        /// <summary>--budget-clock as given.</summary>
        [CommandOption("--budget-clock <C>"), Description("what the budget and the evaluation period count: wall (default) or cpu (the process's CPU time during training steps: equal work for runs made side by side on a shared machine)")]
        public string? BudgetClock { get; init; }

        /// <summary>--steps.</summary>
        [CommandOption("--steps <N>"), Description("the most training steps per model (default: no cap); with --resume, counts the checkpoint's steps too; 0 trains nothing (e.g. to generate from a checkpoint)")]
        public string? Steps { get; init; }

        /// <summary>--eval-minutes.</summary>
        [CommandOption("--eval-minutes <X>"), Description("evaluate on the validation text every X minutes of training time, and at the end (default 2)")]
        public string? EvalMinutes { get; init; }

        /// <summary>--batch.</summary>
        [CommandOption("--batch <B>"), Description("parallel streams of consecutive characters, the mini-batch size (default 32)")]
        public string? Batch { get; init; }

        /// <summary>--bptt.</summary>
        [CommandOption("--bptt <T>"), Description("characters per stream and training step, the truncated-BPTT length (default 100)")]
        public string? Bptt { get; init; }

        /// <summary>--lr.</summary>
        [CommandOption("--lr <X>"), Description("Adam's learning rate (default 2e-3)")]
        public string? LearningRate { get; init; }

        /// <summary>--weight-decay.</summary>
        [CommandOption("--weight-decay <X>"), Description("L2 weight decay on weight matrices, not on biases or u (default 1e-4; 0 = plain Adam)")]
        public string? WeightDecay { get; init; }

        /// <summary>--layers.</summary>
        [CommandOption("--layers <L>"), Description("recurrent layers of every model (default 2)")]
        public string? Layers { get; init; }

        /// <summary>--hidden.</summary>
        [CommandOption("--hidden <H>"), Description("DuRNN units per layer (default 256); IndRNN, LSTM and GRU get the size whose parameter count is closest to DuRNN's")]
        public string? Hidden { get; init; }

        /// <summary>--embedding.</summary>
        [CommandOption("--embedding <E>"), Description("size of the character embedding (default 64)")]
        public string? Embedding { get; init; }

        /// <summary>--input-std.</summary>
        [CommandOption("--input-std <X>"), Description("DuRNN and IndRNN: σ_h of the long-term input weights W_h ~ N(0, σ_h²) (default: the library's, 0.001 here)")]
        public string? InputWeightStd { get; init; }

        /// <summary>--batch-norm.</summary>
        [CommandOption("--batch-norm"), Description("DuRNN and IndRNN: the library's BatchNorm between layers (default off; counted in the parameters)")]
        public bool BatchNorm { get; init; }

        /// <summary>--recurrent-bound.</summary>
        [CommandOption("--recurrent-bound <X>"), Description("DuRNN and IndRNN: keep |u| ≤ X, 0 < X < 1, below the library's U_bound = 1 (u starts U(0, X)), as IndRNN's own character-level PTB code does with 0.99 (default: the library's)")]
        public string? RecurrentBound { get; init; }

        /// <summary>--short-term.</summary>
        [CommandOption("--short-term <A>"), Description("DuRNN: φ of the short-term cells, relu (default) or tanh")]
        public string? ShortTermActivation { get; init; }

        /// <summary>--spectral-bound.</summary>
        [CommandOption("--spectral-bound <X>"), Description("DuRNN: ρ of the short-term constraint ‖U_s‖₂ ≤ ρ, 0 < ρ < 1 (default: the library's, 0.9)")]
        public string? SpectralBound { get; init; }

        /// <summary>--seed.</summary>
        [CommandOption("--seed <S>"), Description("seeds torch before each model is built, and the sampling of generated text (default 1)")]
        public string? Seed { get; init; }

        /// <summary>--threads.</summary>
        [CommandOption("--threads <N>"), Description("torch intra-op threads (default: one per core; 1 with --quick)")]
        public string? Threads { get; init; }

        /// <summary>--out.</summary>
        [CommandOption("--out <DIR>"), Description("folder for the CSV files, the plot, the generated text and the checkpoints (default samples/CharLanguageModel/out)")]
        public string? OutputDirectory { get; init; }

        /// <summary>--checkpoint.</summary>
        [CommandOption("--checkpoint"), Description("after every evaluation, save model, optimizer, curve and the carried state to DIR/checkpoints/{model}")]
        public bool Checkpoint { get; init; }

        /// <summary>--resume.</summary>
        [CommandOption("--resume"), Description("continue each model from its checkpoint when there is one (implies --checkpoint); --budget-minutes and --steps may be raised to train further; other settings must match the checkpoint")]
        public bool Resume { get; init; }

        /// <summary>--diagnose.</summary>
        [CommandOption("--diagnose"), Description("no training: load each --model's checkpoint from --out and count the silent units of its last recurrent layer over the validation text (written to {corpus}-{model}-units.csv; also done after every training run)")]
        public bool Diagnose { get; init; }

        /// <summary>--plot-only.</summary>
        [CommandOption("--plot-only"), Description("no training: redraw the plot from the CSV files already in --out for --model (e.g. to combine models trained in separate runs)")]
        public bool PlotOnly { get; init; }

        /// <summary>--generate.</summary>
        [CommandOption("--generate <N>"), Description("after training, sample N characters from each model (default 400; 0 = none)")]
        public string? Generate { get; init; }

        /// <summary>--temperature.</summary>
        [CommandOption("--temperature <X>"), Description("sampling temperature (default 0.8; 0 = always the most likely character)")]
        public string? Temperature { get; init; }

        /// <summary>--prompt.</summary>
        [CommandOption("--prompt <TEXT>"), Description("the text generation continues (default: a newline)")]
        public string? Prompt { get; init; }

        /// <summary>--quick.</summary>
        [CommandOption("--quick"), Description("smoke test, seconds: the first 200000 characters, hidden 32, embedding 16, batch 16, bptt 50, 30 steps, validation every 0.002 min (0.12 s) of training, 80 generated characters, 1 thread (explicit options still win)")]
        public bool Quick { get; init; }

        /// <summary>The run these options ask for.</summary>
        /// <exception cref="ArgumentException">A bad value; the message names the option.</exception>
        public Options ToOptions()
        {
            var o = Quick
                ? new Options
                {
                    Quick = true, MaxChars = 200_000, Hidden = 32, Embedding = 16, Batch = 16, Bptt = 50, Steps = 30,
                    EvalMinutes = 0.002, Generate = 80, Threads = 1,
                }
                : new Options();
            if (TextPath is { Length: 0 })
                throw new ArgumentException("--text needs a file name.");
            if (Prompt is { Length: 0 })
                throw new ArgumentException("--prompt needs at least one character.");
            return o with
            {
                PlotOnly = PlotOnly,
                Diagnose = Diagnose,
                Checkpoint = Checkpoint || Resume,
                Resume = Resume,
                Models = CommandLine.Choices(Models, "--model", Options.Name, o.Models),
                TextPath = TextPath ?? o.TextPath,
                MaxChars = CommandLine.Int(MaxChars, "--max-chars", o.MaxChars, min: 1),
                BudgetMinutes = CommandLine.Double(BudgetMinutes, "--budget-minutes", o.BudgetMinutes, allowZero: false),
                BudgetClock = CommandLine.Choice(BudgetClock, "--budget-clock", c => c.ToString().ToLowerInvariant(), o.BudgetClock),
                Steps = CommandLine.Int(Steps, "--steps", o.Steps, min: 0),
                EvalMinutes = CommandLine.Double(EvalMinutes, "--eval-minutes", o.EvalMinutes, allowZero: false),
                Batch = CommandLine.Int(Batch, "--batch", o.Batch, min: 1),
                Bptt = CommandLine.Int(Bptt, "--bptt", o.Bptt, min: 1),
                LearningRate = CommandLine.Double(LearningRate, "--lr", o.LearningRate, allowZero: false),
                WeightDecay = CommandLine.Double(WeightDecay, "--weight-decay", o.WeightDecay, allowZero: true),
                Layers = CommandLine.Int(Layers, "--layers", o.Layers, min: 1),
                Hidden = CommandLine.Int(Hidden, "--hidden", o.Hidden, min: 1),
                Embedding = CommandLine.Int(Embedding, "--embedding", o.Embedding, min: 1),
                InputWeightStd = CommandLine.Double(InputWeightStd, "--input-std", o.InputWeightStd, allowZero: false),
                BatchNorm = BatchNorm || o.BatchNorm,
                RecurrentBound = BelowOne(CommandLine.Double(RecurrentBound, "--recurrent-bound", o.RecurrentBound, allowZero: false),
                    "--recurrent-bound", "the library's bound here"),
                ShortTermActivation = CommandLine.Choice(ShortTermActivation, "--short-term", CommandLine.Lower, o.ShortTermActivation),
                SpectralBound = BelowOne(CommandLine.Double(SpectralBound, "--spectral-bound", o.SpectralBound, allowZero: false),
                    "--spectral-bound", "ShortTermConstraint.SpectralNorm's rule"),
                Seed = CommandLine.Int(Seed, "--seed", o.Seed, min: int.MinValue),
                Threads = CommandLine.Int(Threads, "--threads", o.Threads, min: 1),
                OutputDirectory = OutputDirectory ?? o.OutputDirectory,
                Generate = CommandLine.Int(Generate, "--generate", o.Generate, min: 0),
                Temperature = CommandLine.Double(Temperature, "--temperature", o.Temperature, allowZero: true),
                Prompt = Prompt ?? o.Prompt,
            };
        }

        /// <summary>The value of <paramref name="option"/>, which must be below 1 (<paramref name="why"/>).</summary>
        private static double? BelowOne(double? bound, string option, string why) => bound >= 1
            ? throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{option} must be below 1 ({why}); got {bound}."))
            : bound;

        /// <summary>Checks every value (Spectre.Console.Cli calls this before the command runs).</summary>
        public override ValidationResult Validate() => CommandLine.Validate(() => ToOptions());
    }

    /// <summary>The sample's one command: trains (or, with --plot-only, redraws) with the options given.</summary>
    internal sealed class TrainCommand : SampleCommand<Settings>
    {
        /// <inheritdoc/>
        public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
            Program.Run(settings.ToOptions());
    }
}
