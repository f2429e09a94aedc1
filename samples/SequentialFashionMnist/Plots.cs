using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>The PNG plots (ScottPlot 5): test accuracy against epochs and against training time, and per-class test accuracy.</summary>
    internal static class Plots
    {
        private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

        /// <summary>
        /// Writes <c>{mode}_test_accuracy.png</c> (test accuracy against epochs: passes over the training set) and
        /// <c>{mode}_test_accuracy_time.png</c> (against minutes of training, evaluations excluded): one line per model.
        /// </summary>
        /// <returns>The paths written.</returns>
        public static IReadOnlyList<string> TestAccuracy(IReadOnlyList<ModelResult> results, Options o, int trainCount) => new[]
        {
            TestAccuracy(results, o, p => p.Epoch, $"epochs ({trainCount} training images each)", "test_accuracy"),
            TestAccuracy(results, o, p => p.Budgeted(o.BudgetClock) / 60,
                $"minutes of training ({(o.BudgetClock == BudgetClock.Cpu ? "CPU time" : "wall-clock time")} of the training steps; evaluations excluded)", "test_accuracy_time"),
        };

        private static string TestAccuracy(IReadOnlyList<ModelResult> results, Options o, System.Func<CurvePoint, double> x,
            string xLabel, string name)
        {
            var plot = new Plot();
            for (int m = 0; m < results.Count; m++)
            {
                var r = results[m];
                var line = plot.Add.Scatter(r.Curve.Select(x).ToArray(), r.Curve.Select(p => 100 * p.TestAccuracy).ToArray(),
                    Palette.GetColor(m));
                line.LineWidth = 2;
                line.MarkerSize = 6;
                line.LegendText = $"{r.Description} ({r.Parameters:N0} params): {100 * r.Final.TestAccuracy:0.00}% at the end, best {100 * r.Best.TestAccuracy:0.00}%";
            }
            plot.Title($"Sequential Fashion-MNIST, {Report.Prefix(o)} mode (T = {o.SequenceLength}): test accuracy");
            plot.XLabel(xLabel);
            plot.YLabel("test accuracy (%)");
            plot.Axes.SetLimitsY(0, 100);
            plot.ShowLegend(Alignment.LowerRight);
            string path = Path.Combine(o.OutputDirectory, $"{Report.Prefix(o)}_{name}.png");
            plot.SavePng(path, 900, 560);
            return path;
        }

        /// <summary>Writes <c>{mode}_per_class_accuracy.png</c>: per-class test accuracy (%), grouped bars per class.</summary>
        /// <returns>The path written.</returns>
        public static string PerClassAccuracy(IReadOnlyList<ModelResult> results, Options o)
        {
            var plot = new Plot();
            int classes = FashionMnistData.ClassNames.Count;
            double groupWidth = 0.8, barWidth = groupWidth / results.Count;
            for (int m = 0; m < results.Count; m++)
            {
                var r = results[m];
                var bars = Enumerable.Range(0, classes).Select(c => new Bar
                {
                    Position = c - groupWidth / 2 + barWidth * (m + 0.5),
                    Value = 100 * r.PerClassAccuracy[c],
                    Size = barWidth * 0.92,
                    FillColor = Palette.GetColor(m),
                    LineWidth = 0,
                }).ToList();
                var barPlot = plot.Add.Bars(bars);
                barPlot.LegendText = $"{r.Description}: {100 * r.Final.TestAccuracy:0.00}% overall";
            }
            double[] positions = Enumerable.Range(0, classes).Select(c => (double)c).ToArray();
            plot.Axes.Bottom.SetTicks(positions, FashionMnistData.ClassNames.ToArray());
            plot.Axes.Bottom.MajorTickStyle.Length = 0;
            plot.Axes.Bottom.TickLabelStyle.Rotation = -30;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.MinimumSize = 90;
            plot.Axes.SetLimits(-0.6, classes - 0.4, 0, 108);
            plot.Title($"Sequential Fashion-MNIST, {Report.Prefix(o)} mode: test accuracy per class");
            plot.YLabel("test accuracy (%)");
            plot.ShowLegend(Edge.Bottom);
            string path = Path.Combine(o.OutputDirectory, $"{Report.Prefix(o)}_per_class_accuracy.png");
            plot.SavePng(path, 1000, 560);
            return path;
        }
    }
}
