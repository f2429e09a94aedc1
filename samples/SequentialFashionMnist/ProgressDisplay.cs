using System;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>Receives a model's training progress.</summary>
    internal interface ITrainingProgress
    {
        /// <summary>An epoch begins.</summary>
        void StartEpoch(int epoch, int epochs, int steps);

        /// <summary>A training step ended; <paramref name="loss"/> and <paramref name="accuracy"/> are the epoch's running means.</summary>
        void Step(int step, double loss, double accuracy);

        /// <summary>The test evaluation after the epoch begins.</summary>
        void Evaluating();

        /// <summary>The epoch and its evaluation ended.</summary>
        void EndEpoch(EpochRecord record);
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

        /// <summary>The epoch summary both displays print.</summary>
        private static string Summary(string name, EpochRecord r, int epochs) =>
            $"{name} epoch {r.Epoch}/{epochs}: train loss {Number(r.TrainLoss)}, train acc {Percent(r.TrainAccuracy)}, " +
            $"test loss {Number(r.TestLoss)}, test acc {Percent(r.TestAccuracy)}, " +
            $"{r.TrainSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s training + " +
            $"{r.EvalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s test";

        private sealed class LiveProgress : ITrainingProgress
        {
            private readonly string name;
            private readonly ProgressContext context;
            private ProgressTask? task;
            private int epoch, epochs;

            public LiveProgress(string name, ProgressContext context)
            {
                this.name = name;
                this.context = context;
            }

            public void StartEpoch(int epoch, int epochs, int steps)
            {
                this.epoch = epoch;
                this.epochs = epochs;
                task = context.AddTask(Markup.Escape($"{name} epoch {epoch}/{epochs}"), maxValue: steps);
            }

            public void Step(int step, double loss, double accuracy)
            {
                if (task is null) return;
                task.Value = step;
                task.Description = Markup.Escape($"{name} epoch {epoch}/{epochs}  step {step}/{task.MaxValue:0}  " +
                    $"loss {Number(loss)}  acc {Percent(accuracy)}");
            }

            public void Evaluating()
            {
                if (task is null) return;
                task.Description = Markup.Escape($"{name} epoch {epoch}/{epochs}  evaluating on the test set…");
            }

            public void EndEpoch(EpochRecord record)
            {
                if (task is null) return;
                task.Description = Markup.Escape(Summary(name, record, epochs));
                task.StopTask();
            }
        }

        private sealed class PlainProgress : ITrainingProgress
        {
            private static readonly TimeSpan MaxSilence = TimeSpan.FromSeconds(30);
            private readonly string name;
            private readonly Stopwatch clock = new Stopwatch();
            private readonly Stopwatch sinceLine = new Stopwatch();
            private int epoch, epochs, steps, every;

            public PlainProgress(string name) => this.name = name;

            public void StartEpoch(int epoch, int epochs, int steps)
            {
                this.epoch = epoch;
                this.epochs = epochs;
                this.steps = steps;
                every = Math.Max(1, (steps + 9) / 10);
                clock.Restart();
                sinceLine.Restart();
            }

            public void Step(int step, double loss, double accuracy)
            {
                if (step % every != 0 && step != steps && sinceLine.Elapsed < MaxSilence) return;
                double elapsed = clock.Elapsed.TotalSeconds;
                double left = elapsed / step * (steps - step);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name} epoch {epoch}/{epochs} step {step}/{steps}: loss {Number(loss)}, acc {Percent(accuracy)}, " +
                    $"{elapsed:0} s elapsed, ~{left:0} s left in this epoch"));
                sinceLine.Restart();
            }

            public void Evaluating()
            {
            }

            public void EndEpoch(EpochRecord record) => Console.WriteLine(Summary(name, record, epochs));
        }
    }
}
