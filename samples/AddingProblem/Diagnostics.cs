using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using ScottPlot;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// What a trained model's recurrent layers learned (the paper's visualisation): per layer the long-term
    /// recurrent weights u, each long-term neuron's memory horizon (steps k until |u_i|^k &lt; 0.01, from the
    /// library's <see cref="DuRNNDiagnostics"/>) and ‖U_s‖₂. Written as a CSV and a PNG per model, and summed up in
    /// one line per layer.
    /// </summary>
    internal static class LayerDiagnosticsReport
    {
        private const string Header = "layer,neuron,u,horizon,u_bound,short_term_spectral_norm,u_initial,horizon_initial,short_term_spectral_norm_initial";

        /// <summary>The CSV file of one model's layer diagnostics.</summary>
        public static string CsvPath(string directory, int length, ModelKind model) =>
            Path.Combine(directory, $"adding-T{length}-{Options.Name(model)}-layers.csv");

        /// <summary>
        /// Writes <c>adding-T{T}-{model}-layers.csv</c>: one row per long-term neuron with its u and horizon
        /// ("inf" when |u_i| ≥ 1), the layer's U_bound and ‖U_s‖₂ (empty for an IndRNN), and the same values of
        /// the model as initialised.
        /// </summary>
        /// <returns>The path written.</returns>
        public static string WriteCsv(string directory, int length, ModelKind model, IReadOnlyList<LayerDiagnostics> layers,
            IReadOnlyList<LayerDiagnostics> initial)
        {
            var text = new StringBuilder(Header + "\n");
            foreach (var layer in layers)
            {
                var start = initial[layer.Layer];
                for (int i = 0; i < layer.RecurrentWeights.Length; i++)
                {
                    text.Append(string.Create(CultureInfo.InvariantCulture,
                        $"{layer.Layer},{i},{layer.RecurrentWeights[i]:R},{Format(layer.MemoryHorizons[i])},{layer.RecurrentBound:R},{Format(layer.ShortTermSpectralNorm)},{start.RecurrentWeights[i]:R},{Format(start.MemoryHorizons[i])},{Format(start.ShortTermSpectralNorm)}\n"));
                }
            }
            string path = CsvPath(directory, length, model);
            File.WriteAllText(path, text.ToString());
            return path;
        }

        /// <summary>"inf" for +∞, empty for NaN (no such value), the round-trip form otherwise.</summary>
        private static string Format(double value) =>
            double.IsPositiveInfinity(value) ? "inf" : double.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

        /// <summary>
        /// Reads back what <see cref="WriteCsv"/> wrote (for --plot-only): the trained and the initial diagnostics;
        /// null when there is no such file.
        /// </summary>
        /// <exception cref="InvalidDataException">The file is not in the expected format.</exception>
        public static (IReadOnlyList<LayerDiagnostics> Trained, IReadOnlyList<LayerDiagnostics> Initial)? TryReadCsv(
            string directory, int length, ModelKind model)
        {
            string path = CsvPath(directory, length, model);
            if (!File.Exists(path)) return null;
            var lines = File.ReadAllLines(path);
            if (lines.Length < 2 || lines[0] != Header)
                throw new InvalidDataException($"{path} is not a layer-diagnostics file written by this sample.");
            var rows = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
            if (rows.Any(r => r.Length != 9))
                throw new InvalidDataException($"{path}: malformed row.");
            static double Parse(string s) => s switch
            {
                "inf" => double.PositiveInfinity,
                "" => double.NaN,
                _ => double.Parse(s, CultureInfo.InvariantCulture),
            };
            var layers = rows.GroupBy(r => int.Parse(r[0], CultureInfo.InvariantCulture)).OrderBy(g => g.Key).ToList();
            var trained = layers.Select(g => new LayerDiagnostics(g.Key,
                    g.Select(r => Parse(r[2])).ToArray(), g.Select(r => Parse(r[3])).ToArray(),
                    Parse(g.First()[5]), Parse(g.First()[4])))
                .ToList();
            var initial = layers.Select(g => new LayerDiagnostics(g.Key,
                    g.Select(r => Parse(r[6])).ToArray(), g.Select(r => Parse(r[7])).ToArray(),
                    Parse(g.First()[8]), Parse(g.First()[4])))
                .ToList();
            return (trained, initial);
        }

        /// <summary>
        /// One line per layer: the range of u, the median horizon, how many neurons remember T/2 steps, ‖U_s‖₂, and
        /// how far training moved them from the initialisation.
        /// </summary>
        public static IEnumerable<string> Describe(ModelKind model, int length, IReadOnlyList<LayerDiagnostics> layers,
            IReadOnlyList<LayerDiagnostics> initial) =>
            layers.Select(l =>
            {
                var start = initial[l.Layer];
                double moved = l.RecurrentWeights.Zip(start.RecurrentWeights, (a, b) => Math.Abs(a - b)).Max();
                string norm = double.IsNaN(l.ShortTermSpectralNorm)
                    ? ""
                    : string.Create(CultureInfo.InvariantCulture, $", ‖U_s‖₂ = {l.ShortTermSpectralNorm:0.000} (initially {start.ShortTermSpectralNorm:0.000})");
                return string.Create(CultureInfo.InvariantCulture,
                    $"{Options.Name(model)} layer {l.Layer}: u in [{l.RecurrentWeights.Min():0.####}, {l.RecurrentWeights.Max():0.######}] (U_bound {l.RecurrentBound:0.######}; largest change from the initial u {moved:0.####}), median horizon {FormatHorizon(l.MedianHorizon)} steps (initially {FormatHorizon(start.MedianHorizon)}), {l.NeuronsRemembering(length / 2.0)}/{l.MemoryHorizons.Length} neurons remember ≥ {length / 2} steps (T/2){norm}");
            });

        /// <summary>
        /// Saves <c>adding-T{T}-{model}-layers.png</c>: one row per layer; on the left the long-term neurons' u
        /// sorted (with ±U_bound), on the right their memory horizons sorted on a log scale (with T and T/2; neurons
        /// that never forget, |u_i| ≥ 1, drawn on the top edge and counted in the title).
        /// </summary>
        /// <returns>The path written.</returns>
        public static string SavePlot(string directory, int length, ModelKind model, IReadOnlyList<LayerDiagnostics> layers,
            IReadOnlyList<LayerDiagnostics> initial)
        {
            var multiplot = new Multiplot();
            multiplot.AddPlots(2 * layers.Count);
            multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(layers.Count, 2);
            string font = LearningCurvePlot.SansFont();

            double finiteMax = layers.Concat(initial).SelectMany(l => l.MemoryHorizons).Where(double.IsFinite).DefaultIfEmpty(1).Max();
            double top = Math.Log10(Math.Max(finiteMax, length)) + 0.3;
            foreach (var layer in layers)
            {
                var sortedU = layer.RecurrentWeights.OrderBy(u => u).ToArray();
                double[] rank = Enumerable.Range(0, sortedU.Length).Select(i => (double)i).ToArray();

                var start = initial[layer.Layer];
                var sortedStart = start.RecurrentWeights.OrderBy(v => v).ToArray();
                var left = multiplot.GetPlot(2 * layer.Layer);
                AddInitialAndTrained(left, rank, sortedStart, sortedU, Colors.SteelBlue);
                // The y range follows the data (u of a long-memory layer all sit just below 1) and shows +U_bound;
                // −U_bound only when some u are negative.
                double low = Math.Min(Math.Min(sortedU.Min(), sortedStart.Min()), layer.RecurrentBound);
                double high = Math.Max(Math.Max(sortedU.Max(), sortedStart.Max()), layer.RecurrentBound);
                left.Add.HorizontalLine(layer.RecurrentBound, 1, Colors.Gray, LinePattern.Dashed);
                if (low < 0)
                {
                    left.Add.HorizontalLine(-layer.RecurrentBound, 1, Colors.Gray, LinePattern.Dashed);
                    low = Math.Min(low, -layer.RecurrentBound);
                }
                double margin = Math.Max(1e-4, 0.05 * (high - low));
                left.Axes.SetLimitsY(low - margin, high + margin);
                left.Title(string.Create(CultureInfo.InvariantCulture,
                    $"layer {layer.Layer}: long-term u, sorted (dashed: U_bound = {layer.RecurrentBound:0.#####})"), size: 13);
                left.ShowLegend(Alignment.LowerRight);
                left.XLabel("neuron (sorted by u)");
                left.YLabel("u");
                left.Font.Set(font);

                var right = multiplot.GetPlot(2 * layer.Layer + 1);
                var horizons = layer.MemoryHorizons.OrderBy(h => h).ToArray();
                int forever = horizons.Count(double.IsPositiveInfinity);
                double[] logH = horizons.Select(h => double.IsPositiveInfinity(h) ? top : Math.Log10(h)).ToArray();
                double[] logStart = start.MemoryHorizons.OrderBy(h => h)
                    .Select(h => double.IsPositiveInfinity(h) ? top : Math.Log10(h)).ToArray();
                AddInitialAndTrained(right, rank, logStart, logH, Colors.DarkOrange);
                if (forever > 0)
                {
                    var never = right.Add.ScatterPoints(rank[^forever..], logH[^forever..], Colors.Crimson);
                    never.MarkerSize = 6;
                    never.LegendText = "never forgets (|u| ≥ 1)";
                }
                right.ShowLegend(Alignment.LowerRight);
                right.Add.HorizontalLine(Math.Log10(length), 1.5f, Colors.Black, LinePattern.Dashed);
                right.Add.HorizontalLine(Math.Log10(length / 2.0), 1f, Colors.Gray, LinePattern.Dotted);
                right.Axes.Left.TickGenerator = LearningCurvePlot.LogTicks(0, top);
                right.Axes.SetLimitsY(-0.05, top + 0.1);
                string norm = double.IsNaN(layer.ShortTermSpectralNorm)
                    ? "no short-term part"
                    : string.Create(CultureInfo.InvariantCulture, $"‖U_s‖₂ {start.ShortTermSpectralNorm:0.000} → {layer.ShortTermSpectralNorm:0.000}");
                right.Title(string.Create(CultureInfo.InvariantCulture,
                    $"horizons (dashed: T = {length}, dotted: T/2); {forever} never forget; {norm}"), size: 13);
                right.XLabel("neuron (sorted by horizon)");
                right.YLabel("steps until |u|^k < 0.01 (log)");
                right.Font.Set(font);
            }

            string path = Path.Combine(directory, $"adding-T{length}-{Options.Name(model)}-layers.png");
            multiplot.SavePng(path, 1300, 380 * layers.Count);
            return path;
        }

        /// <summary>The initial values as a thin grey line, the trained ones as a thicker coloured line with markers.</summary>
        private static void AddInitialAndTrained(Plot plot, double[] xs, double[] initial, double[] trained, Color color)
        {
            var before = plot.Add.Scatter(xs, initial, Colors.Gray.WithOpacity(0.7));
            before.LineWidth = 1;
            before.MarkerSize = 0;
            before.LegendText = "initial";
            var after = plot.Add.Scatter(xs, trained, color);
            after.LineWidth = 2;
            after.MarkerSize = 3;
            after.LegendText = "trained";
        }

        private static string FormatHorizon(double h) =>
            double.IsPositiveInfinity(h) ? "∞" : h.ToString("0", CultureInfo.InvariantCulture);
    }
}
