using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ScottPlot;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>Draws the test MSE of every model against the training step (log scale), with the baseline.</summary>
    internal static class LearningCurvePlot
    {
        /// <summary>Saves <c>adding-T{T}.png</c> (900 × 500) in <paramref name="directory"/>.</summary>
        /// <returns>The path written.</returns>
        /// <param name="directory">The output folder.</param>
        /// <param name="options">The run's options (for the title and the x range).</param>
        /// <param name="results">The learning curves.</param>
        /// <param name="testBaselineMse">The MSE of predicting 1 on the fixed test set, drawn as a second, dotted line
        /// (where a model that learned nothing ends up).</param>
        public static string Save(string directory, Options options, IReadOnlyList<TrainingResult> results, double testBaselineMse)
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            double lowest = AddingData.BaselineMse, highest = AddingData.BaselineMse;
            for (int i = 0; i < results.Count; i++)
            {
                var points = results[i].Curve.Where(p => double.IsFinite(p.TestMse) && p.TestMse > 0).ToArray();
                if (points.Length == 0) continue;
                double[] xs = points.Select(p => (double)p.Step).ToArray();
                double[] ys = points.Select(p => Math.Log10(p.TestMse)).ToArray();
                var scatter = plot.Add.Scatter(xs, ys, palette.GetColor(i));
                scatter.LegendText = Options.Name(results[i].Model);
                scatter.LineWidth = 2;
                scatter.MarkerSize = 4;
                lowest = Math.Min(lowest, points.Min(p => p.TestMse));
                highest = Math.Max(highest, points.Max(p => p.TestMse));
            }

            var baseline = plot.Add.HorizontalLine(Math.Log10(AddingData.BaselineMse), 1.5f, Colors.Gray, LinePattern.Dashed);
            baseline.LegendText = "baseline: predict 1 (MSE 1/6 = 0.167)";
            var testBaseline = plot.Add.HorizontalLine(Math.Log10(testBaselineMse), 1f, Colors.Gray, LinePattern.Dotted);
            testBaseline.LegendText = string.Create(CultureInfo.InvariantCulture, $"predict 1 on this test set ({testBaselineMse:0.000})");
            lowest = Math.Min(lowest, testBaselineMse);
            highest = Math.Max(highest, testBaselineMse);

            double bottom = Math.Log10(lowest) - 0.1, top = Math.Log10(highest) + 0.1;
            plot.Axes.Left.TickGenerator = LogTicks(bottom, top);
            plot.Axes.SetLimitsY(bottom, top);
            plot.Axes.SetLimitsX(0, Math.Max(1, results.SelectMany(r => r.Curve).Select(p => p.Step).DefaultIfEmpty(options.Steps).Max()));
            plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.12);

            plot.Title(string.Create(CultureInfo.InvariantCulture,
                $"Adding problem, T = {options.Length}: {options.Layers} layers × {options.Hidden}, batch {options.Batch}, lr {options.LearningRate:G3}, seed {options.Seed}"));
            plot.XLabel("training step");
            plot.YLabel("test MSE (log scale)");
            plot.Font.Set(SansFont());
            plot.ShowLegend(Alignment.UpperRight);

            string path = Path.Combine(directory, $"adding-T{options.Length}.png");
            plot.SavePng(path, 900, 500);
            return path;
        }

        /// <summary>
        /// A sans-serif family installed here (ScottPlot 5.1 resolves its "sans" font to DejaVu Serif on Debian),
        /// or ScottPlot's default.
        /// </summary>
        internal static string SansFont()
        {
            var installed = SkiaSharp.SKFontManager.Default.GetFontFamilies();
            return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Segoe UI" }
                .FirstOrDefault(f => installed.Contains(f, StringComparer.OrdinalIgnoreCase)) ?? Fonts.Default;
        }

        /// <summary>
        /// Ticks for a log10 axis between <paramref name="bottom"/> and <paramref name="top"/> (in decades):
        /// labelled major ticks at 1, 2 and 5 × 10^k (only at 10^k when the range spans more than three decades),
        /// minor ticks at the other integers × 10^k.
        /// </summary>
        internal static ScottPlot.TickGenerators.NumericManual LogTicks(double bottom, double top)
        {
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            bool sparse = top - bottom > 3;
            for (int decade = (int)Math.Floor(bottom); decade <= (int)Math.Ceiling(top); decade++)
            {
                for (int m = 1; m <= 9; m++)
                {
                    double value = m * Math.Pow(10, decade);
                    double position = Math.Log10(value);
                    if (position < bottom || position > top) continue;
                    bool major = m == 1 || (!sparse && (m == 2 || m == 5));
                    if (major)
                        ticks.AddMajor(position, value.ToString("G6", CultureInfo.InvariantCulture));
                    else
                        ticks.AddMinor(position);
                }
            }
            return ticks;
        }
    }
}
