using System.Collections.Generic;
using System.IO;
using System.Linq;
using ScottPlot;

namespace DuRnn.Samples.SequentialFashionMnist
{
    /// <summary>The two PNG plots (ScottPlot 5): test accuracy per epoch, and per-class test accuracy.</summary>
    internal static class Plots
    {
        private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

        /// <summary>Writes <c>{mode}_test_accuracy.png</c>: test accuracy (%) per epoch, one line per model.</summary>
        /// <returns>The path written.</returns>
        public static string TestAccuracy(IReadOnlyList<ModelResult> results, Options o, int trainCount)
        {
            var plot = new Plot();
            for (int m = 0; m < results.Count; m++)
            {
                var r = results[m];
                double[] epochs = r.Epochs.Select(e => (double)e.Epoch).ToArray();
                double[] accuracy = r.Epochs.Select(e => 100 * e.TestAccuracy).ToArray();
                var line = plot.Add.Scatter(epochs, accuracy, Palette.GetColor(m));
                line.LineWidth = 2;
                line.MarkerSize = 7;
                line.LegendText = $"{r.Description} ({r.Parameters:N0} params): {100 * r.Final.Accuracy:0.00}%";
            }
            plot.Title($"Sequential Fashion-MNIST, {Report.Prefix(o)} mode (T = {o.SequenceLength}): test accuracy");
            plot.XLabel($"epoch ({trainCount} training images each)");
            plot.YLabel("test accuracy (%)");
            int maxEpochs = results.Max(r => r.Epochs.Count);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Axes.SetLimitsX(0.5, maxEpochs + 0.5);
            plot.ShowLegend(Alignment.LowerRight);
            string path = Path.Combine(o.OutputDirectory, $"{Report.Prefix(o)}_test_accuracy.png");
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
                    Value = 100 * r.Final.PerClassAccuracy[c],
                    Size = barWidth * 0.92,
                    FillColor = Palette.GetColor(m),
                    LineWidth = 0,
                }).ToList();
                var barPlot = plot.Add.Bars(bars);
                barPlot.LegendText = $"{r.Description}: {100 * r.Final.Accuracy:0.00}% overall";
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
