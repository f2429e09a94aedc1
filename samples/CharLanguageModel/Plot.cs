using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using ScottPlot;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>Draws the validation bits per character of every model against its training time, on one plot.</summary>
    internal static class LearningCurvePlot
    {
        /// <summary>The plot's file: <c>{out}/{corpus}.png</c>.</summary>
        public static string PathOf(Options o) => Path.Combine(o.OutputDirectory, $"{o.CorpusName}.png");

        /// <summary>Saves <see cref="PathOf"/> (900 × 500).</summary>
        /// <param name="o">The run's options (for the title and the file name).</param>
        /// <param name="curves">Each model's legend text and learning curve.</param>
        /// <returns>The path written.</returns>
        public static string Save(Options o, IReadOnlyList<(string Label, IReadOnlyList<CurvePoint> Curve)> curves)
        {
            var plot = new ScottPlot.Plot();
            var palette = new ScottPlot.Palettes.Category10();
            for (int i = 0; i < curves.Count; i++)
            {
                var points = curves[i].Curve.Where(p => double.IsFinite(p.ValidBpc)).ToArray();
                if (points.Length == 0) continue;
                var scatter = plot.Add.Scatter(points.Select(p => p.Budgeted(o.BudgetClock)).ToArray(), points.Select(p => p.ValidBpc).ToArray(),
                    palette.GetColor(i));
                scatter.LegendText = curves[i].Label;
                scatter.LineWidth = 2;
                scatter.MarkerSize = 4;
            }

            // The untrained models start near log2(V) bits; the differences that matter are far below. When every
            // curve has at least two evaluations after step 0, the y range leaves step 0 out (its points run off the top).
            var all = curves.SelectMany(c => c.Curve).Where(p => double.IsFinite(p.ValidBpc)).ToList();
            if (all.Count > 0)
            {
                bool trained = curves.All(c => c.Curve.Count(p => p.Step > 0 && double.IsFinite(p.ValidBpc)) >= 2);
                var range = trained ? all.Where(p => p.Step > 0).ToList() : all;
                double low = range.Min(p => p.ValidBpc), high = range.Max(p => p.ValidBpc);
                double margin = Math.Max(0.05, 0.05 * (high - low));
                plot.Axes.SetLimitsY(Math.Max(0, low - margin), high + margin);
                plot.Axes.SetLimitsX(0, Math.Max(1, all.Max(p => p.Budgeted(o.BudgetClock))) * 1.02);
            }
            plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.12);

            plot.Title(string.Create(CultureInfo.InvariantCulture,
                $"{o.CorpusName}: {o.Layers} layers, embedding {o.Embedding}, batch {o.Batch}, bptt {o.Bptt}, lr {o.LearningRate:G3}, seed {o.Seed}"));
            plot.XLabel(o.BudgetClock == BudgetClock.Cpu ? "training time (CPU s of the training steps, evaluations excluded)" : "training time (s, evaluations excluded)");
            plot.YLabel("validation bits per character");
            plot.Font.Set(SansFont());
            plot.ShowLegend(Alignment.UpperRight);

            string path = PathOf(o);
            plot.SavePng(path, 900, 500);
            return path;
        }

        /// <summary>
        /// A sans-serif family installed here (ScottPlot 5.1 resolves its "sans" font to DejaVu Serif on Debian),
        /// or ScottPlot's default.
        /// </summary>
        private static string SansFont()
        {
            var installed = SkiaSharp.SKFontManager.Default.GetFontFamilies();
            return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Segoe UI" }
                .FirstOrDefault(f => installed.Contains(f, StringComparer.OrdinalIgnoreCase)) ?? Fonts.Default;
        }
    }
}
