using System;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>Receives a model's training progress.</summary>
    internal interface ITrainingProgress
    {
        /// <summary>Training continues from a checkpoint whose last evaluation is <paramref name="last"/>.</summary>
        void Resumed(CurvePoint last);

        /// <summary>An epoch begins (or continues at step <paramref name="done"/> after a resume or an evaluation).</summary>
        void StartEpoch(int epoch, int? epochs, int steps, int done);

        /// <summary>A training step ended; <paramref name="loss"/> and <paramref name="accuracy"/> are the running means since the last evaluation.</summary>
        void Step(int step, double loss, double accuracy);

        /// <summary>An evaluation on the test set begins.</summary>
        void Evaluating();

        /// <summary>An evaluation on the test set ended.</summary>
        void Evaluated(CurvePoint point);

        /// <summary>The epoch (or the training) ended.</summary>
        void EndEpoch();
    }

    /// <summary>
    /// Shows training progress: a live Spectre.Console display (one bar per epoch with loss, running accuracy,
    /// elapsed and remaining time) when the console is interactive, plain periodic lines otherwise (CI, redirected
    /// output).
    /// </summary>
    internal static class ProgressDisplay
    {
        /// <summary>Runs <paramref name="work"/> for the model named <paramref name="name"/> with a progress display.</summary>
        /// <param name="name">The model, shown on every line.</param>
        /// <param name="work">The training, given where to report.</param>
        public static T Run<T>(string name, Func<ITrainingProgress, T> work)
        {
            if (!AnsiConsole.Profile.Capabilities.Interactive)
                return work(new PlainProgress(name));
            return AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                    new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context => work(new LiveProgress(name, context)));
        }

        private static string Percent(double fraction) => (100 * fraction).ToString("0.00", CultureInfo.InvariantCulture) + "%";

        private static string Number(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

        /// <summary>The evaluation line both displays print.</summary>
        private static string Summary(string name, CurvePoint p) =>
            string.Create(CultureInfo.InvariantCulture,
                $"{name} step {p.Step} (epoch {p.Epoch:0.00}, {p.Seconds:0} s of training): ") +
            (p.TrainLoss is double loss ? $"train loss {Number(loss)}, train acc {Percent(p.TrainAccuracy ?? double.NaN)}, " : "") +
            $"test loss {Number(p.TestLoss)}, test acc {Percent(p.TestAccuracy)} " +
            $"({p.EvalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s test)";

        private static string Of(int? epochs) => epochs?.ToString(CultureInfo.InvariantCulture) ?? "…";

        private sealed class LiveProgress : ITrainingProgress
        {
            private readonly string name;
            private readonly ProgressContext context;
            private ProgressTask? task;
            private int epoch;
            private int? epochs;

            public LiveProgress(string name, ProgressContext context)
            {
                this.name = name;
                this.context = context;
            }

            public void Resumed(CurvePoint last) =>
                AnsiConsole.MarkupLine(Markup.Escape($"{name}: resumed from the checkpoint at step {last.Step} ({last.Seconds:0} s trained before)"));

            public void StartEpoch(int epoch, int? epochs, int steps, int done)
            {
                this.epoch = epoch;
                this.epochs = epochs;
                task = context.AddTask(Markup.Escape($"{name} epoch {epoch}/{Of(epochs)}"), maxValue: steps);
                task.Value = done;
            }

            public void Step(int step, double loss, double accuracy)
            {
                if (task is null) return;
                task.Value = step;
                task.Description = Markup.Escape($"{name} epoch {epoch}/{Of(epochs)}  step {step}/{task.MaxValue:0}  " +
                    $"loss {Number(loss)}  acc {Percent(accuracy)}");
            }

            public void Evaluating()
            {
                if (task is null) return;
                task.Description = Markup.Escape($"{name} epoch {epoch}/{Of(epochs)}  evaluating on the test set…");
            }

            public void Evaluated(CurvePoint point) => AnsiConsole.MarkupLine(Markup.Escape(Summary(name, point)));

            public void EndEpoch()
            {
                task?.StopTask();
                task = null;
            }
        }

        private sealed class PlainProgress : ITrainingProgress
        {
            private static readonly TimeSpan MaxSilence = TimeSpan.FromSeconds(30);
            private readonly string name;
            private readonly Stopwatch clock = new Stopwatch();
            private readonly Stopwatch sinceLine = new Stopwatch();
            private int epoch, steps, every, first;
            private int? epochs;

            public PlainProgress(string name) => this.name = name;

            public void Resumed(CurvePoint last) =>
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: resumed from the checkpoint at step {last.Step} ({last.Seconds:0} s trained before)"));

            public void StartEpoch(int epoch, int? epochs, int steps, int done)
            {
                this.epoch = epoch;
                this.epochs = epochs;
                this.steps = steps;
                first = done;
                every = Math.Max(1, (steps + 9) / 10);
                clock.Restart();
                sinceLine.Restart();
            }

            public void Step(int step, double loss, double accuracy)
            {
                if (step % every != 0 && step != steps && sinceLine.Elapsed < MaxSilence) return;
                double elapsed = clock.Elapsed.TotalSeconds;
                double left = elapsed / Math.Max(1, step - first) * (steps - step);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name} epoch {epoch}/{Of(epochs)} step {step}/{steps}: loss {Number(loss)}, acc {Percent(accuracy)}, " +
                    $"{elapsed:0} s elapsed, ~{left:0} s left in this epoch"));
                sinceLine.Restart();
            }

            public void Evaluating()
            {
            }

            public void Evaluated(CurvePoint point) => Console.WriteLine(Summary(name, point));

            public void EndEpoch()
            {
            }
        }
    }
}
