using System;
using System.Collections.Generic;
using System.Globalization;
using Spectre.Console;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// Shows the training of every model: a live Spectre.Console progress display (one row per model with step,
    /// current loss, latest test MSE, elapsed and remaining time) on an interactive terminal, and plain lines at
    /// every evaluation when the output is redirected (CI, logs).
    /// </summary>
    internal static class ProgressDisplay
    {
        /// <summary>
        /// Runs <paramref name="train"/> for each model in turn, one at a time, giving it a sink for its progress.
        /// </summary>
        public static List<TrainingResult> Run(Options options, Func<ModelKind, IProgressSink, TrainingResult> train)
        {
            var results = new List<TrainingResult>();
            var capabilities = AnsiConsole.Profile.Capabilities;
            if (capabilities.Interactive && capabilities.Ansi)
            {
                AnsiConsole.Progress()
                    .AutoClear(false)
                    .HideCompleted(false)
                    .Columns(
                        new TaskDescriptionColumn { Alignment = Justify.Left },
                        new ProgressBarColumn(),
                        new PercentageColumn(),
                        new ElapsedTimeColumn(),
                        new RemainingTimeColumn(),
                        new SpinnerColumn())
                    .Start(context =>
                    {
                        var tasks = new List<ProgressTask>();
                        foreach (var kind in options.Models)
                        {
                            var task = context.AddTask(Describe(kind, options.Steps, 0, null, null), autoStart: false,
                                maxValue: options.Steps);
                            tasks.Add(task);
                        }
                        for (int i = 0; i < options.Models.Count; i++)
                        {
                            var kind = options.Models[i];
                            var task = tasks[i];
                            task.StartTask();
                            var result = train(kind, new LiveSink(task, kind, options.Steps));
                            task.Value = options.Steps;
                            task.StopTask();
                            results.Add(result);
                        }
                    });
            }
            else
            {
                foreach (var kind in options.Models)
                {
                    Console.WriteLine($"{Options.Name(kind)}: training {options.Steps} steps ...");
                    results.Add(train(kind, new PlainSink(kind, options.Steps)));
                }
            }
            return results;
        }

        /// <summary>The text of one row: model, step, current loss and latest test MSE.</summary>
        private static string Describe(ModelKind kind, int steps, int step, double? loss, double? testMse)
        {
            string width = steps.ToString(CultureInfo.InvariantCulture);
            string stepText = step.ToString(CultureInfo.InvariantCulture).PadLeft(width.Length);
            return string.Create(CultureInfo.InvariantCulture,
                $"[bold]{Options.Name(kind),-6}[/] step {stepText}/{width}  loss {Format(loss)}  test MSE {Format(testMse)}");
        }

        private static string Format(double? value) =>
            value is double v ? v.ToString("0.0000", CultureInfo.InvariantCulture).PadLeft(7) : "      -";

        /// <summary>Updates one row of the live display.</summary>
        private sealed class LiveSink : IProgressSink
        {
            private readonly ProgressTask task;
            private readonly ModelKind kind;
            private readonly int steps;
            private double? loss, testMse;

            public LiveSink(ProgressTask task, ModelKind kind, int steps)
            {
                this.task = task;
                this.kind = kind;
                this.steps = steps;
            }

            public void OnStep(int step, double loss)
            {
                this.loss = loss;
                task.Description = Describe(kind, steps, step, loss, testMse);
                task.Value = step;
            }

            public void OnEvaluated(CurvePoint point)
            {
                testMse = point.TestMse;
                task.Description = Describe(kind, steps, point.Step, loss ?? point.TrainLoss, testMse);
            }

            public void OnResumed(CurvePoint last)
            {
                task.Value = last.Step;
                OnEvaluated(last);
            }
        }

        /// <summary>Prints one plain line per evaluation.</summary>
        private sealed class PlainSink : IProgressSink
        {
            private readonly ModelKind kind;
            private readonly int steps;

            public PlainSink(ModelKind kind, int steps)
            {
                this.kind = kind;
                this.steps = steps;
            }

            public void OnStep(int step, double loss) { }

            public void OnResumed(CurvePoint last) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Options.Name(kind),-6} resumed from the checkpoint at step {last.Step} ({last.Seconds:0} s trained before)"));

            public void OnEvaluated(CurvePoint point)
            {
                double left = point.Step == 0 ? double.NaN : point.Seconds / point.Step * (steps - point.Step);
                string leftText = double.IsNaN(left) ? "" : string.Create(CultureInfo.InvariantCulture, $", ~{left:0} s left");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Options.Name(kind),-6} step {point.Step,5}/{steps}  train loss {Format(point.TrainLoss)}  test MSE {Format(point.TestMse)}  {point.Seconds,6:0.0} s{leftText}"));
            }
        }
    }
}
