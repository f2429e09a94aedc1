using System;
using System.Globalization;
using Spectre.Console;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// Shows one model's training: a live Spectre.Console progress row (step, training time against the budget, the
    /// latest training and validation bits per character, elapsed and remaining time) on an interactive terminal, and
    /// plain lines at every evaluation when the output is redirected (CI, logs).
    /// </summary>
    internal static class ProgressDisplay
    {
        private const int Resolution = 1000;

        /// <summary>Runs <paramref name="work"/> for the model described by <paramref name="name"/> with a progress display.</summary>
        /// <param name="options">The run's options (the budget and the step cap).</param>
        /// <param name="name">The model, shown on every line.</param>
        /// <param name="work">The training, given where to report.</param>
        public static T Run<T>(Options options, string name, Func<IProgressSink, T> work)
        {
            var capabilities = AnsiConsole.Profile.Capabilities;
            if (!(capabilities.Interactive && capabilities.Ansi))
                return work(new PlainSink(name));
            T result = default!;
            AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                    new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    var task = context.AddTask(Markup.Escape(name), maxValue: Resolution);
                    result = work(new LiveSink(task, name, options));
                    task.Value = Resolution;
                    task.StopTask();
                });
            return result;
        }

        /// <summary>A bits-per-character value with three decimals, or a dash.</summary>
        private static string Bpc(double? value) =>
            value is double v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "  -  ";

        /// <summary>Updates the live row.</summary>
        private sealed class LiveSink : IProgressSink
        {
            private readonly ProgressTask task;
            private readonly string name;
            private readonly Options options;
            private double? train, valid;
            private int step;
            private double seconds;

            /// <summary>Creates the sink of <paramref name="task"/>.</summary>
            public LiveSink(ProgressTask task, string name, Options options)
            {
                this.task = task;
                this.name = name;
                this.options = options;
            }

            /// <inheritdoc/>
            public void OnResumed(CurvePoint last)
            {
                step = last.Step;
                seconds = last.Seconds;
                valid = last.ValidBpc;
                Update("resumed");
            }

            /// <inheritdoc/>
            public void OnStep(int step, double seconds, double bpc)
            {
                this.step = step;
                this.seconds = seconds;
                train = bpc;
                Update(null);
            }

            /// <inheritdoc/>
            public void OnEvaluating(string part) => Update($"evaluating on the {part} text…");

            /// <inheritdoc/>
            public void OnEvaluated(CurvePoint point)
            {
                valid = point.ValidBpc;
                Update(null);
            }

            /// <summary>Redraws the row: the progress (the larger of the budget's and the step cap's fraction) and the description.</summary>
            private void Update(string? note)
            {
                double fraction = Math.Min(1, seconds / options.BudgetSeconds);
                if (options.Steps is int cap && cap > 0) fraction = Math.Max(fraction, Math.Min(1, (double)step / cap));
                task.Value = fraction * Resolution;
                task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"{name}  step {step}  {seconds:0}/{options.BudgetSeconds:0} s  train {Bpc(train)}  valid {Bpc(valid)} bpc{(note is null ? "" : "  " + note)}"));
            }
        }

        /// <summary>Prints one plain line per evaluation.</summary>
        private sealed class PlainSink : IProgressSink
        {
            private readonly string name;

            /// <summary>Creates the sink; <paramref name="name"/> starts every line.</summary>
            public PlainSink(string name) => this.name = name;

            /// <inheritdoc/>
            public void OnResumed(CurvePoint last) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name} resumed from the checkpoint at step {last.Step} ({last.Seconds:0} s trained before, validation {Bpc(last.ValidBpc)} bpc)"));

            /// <inheritdoc/>
            public void OnStep(int step, double seconds, double bpc)
            {
            }

            /// <inheritdoc/>
            public void OnEvaluating(string part)
            {
            }

            /// <inheritdoc/>
            public void OnEvaluated(CurvePoint point) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name} step {point.Step,6}  {point.Seconds,7:0.0} s  train {Bpc(point.TrainBpc)} bpc  valid {Bpc(point.ValidBpc)} bpc"));
        }
    }
}
