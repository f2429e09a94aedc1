using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// What the layers do over training, at every evaluation (issue 16's questions when a run does not leave the
    /// baseline or does not stay below 0.01): per layer the L2 norm of its parameters' gradients (the mean over the steps
    /// since the previous evaluation, read after backward and before the ±10 clamp), the long-term neurons' median memory
    /// horizon, how many remember T/2 steps, the range of u, ‖U_s‖₂, and how open the selection gate is on the first 32
    /// test sequences (mean of g and the fraction of g above 0.5; DuRNN models only). One CSV per model,
    /// <c>adding-T{T}-{model}-training.csv</c>, one row per layer and evaluation, appended as the run goes (a resumed run
    /// first drops the rows past its checkpoint).
    /// </summary>
    internal static class TrainingDiagnostics
    {
        private const string Header = "step,layer,grad_norm,gate_mean,gate_open_fraction,median_horizon,neurons_remembering_half,u_min,u_max,short_term_spectral_norm";

        /// <summary>The CSV file of one model's diagnostics over training.</summary>
        public static string CsvPath(string directory, int length, ModelKind model) =>
            Path.Combine(directory, $"adding-T{length}-{Options.Name(model)}-training.csv");

        /// <summary>Keeps only the rows up to <paramref name="step"/> (after a resume), or starts the file afresh.</summary>
        public static void StartAt(string directory, int length, ModelKind model, int step)
        {
            string path = CsvPath(directory, length, model);
            var kept = File.Exists(path)
                ? File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0 && int.Parse(l[..l.IndexOf(',')], CultureInfo.InvariantCulture) <= step)
                : Enumerable.Empty<string>();
            File.WriteAllText(path, Header + "\n" + string.Concat(kept.Select(l => l + "\n")));
        }

        /// <summary>Appends one evaluation's rows.</summary>
        /// <param name="gradientNorms">Per layer, the mean gradient norm since the previous evaluation (empty at step 0).</param>
        public static void Append(string directory, int length, ModelKind model, int step, IReadOnlyList<double> gradientNorms,
            IReadOnlyList<LayerDiagnostics> layers, IReadOnlyList<GateStatistics> gates)
        {
            var text = new StringBuilder();
            foreach (var layer in layers.Where(l => l.Direction == 0))
            {
                var gate = gates.FirstOrDefault(g => g.Layer == layer.Layer);
                text.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{step},{layer.Layer},{Value(layer.Layer < gradientNorms.Count ? gradientNorms[layer.Layer] : double.NaN)},{Value(gate?.Mean ?? double.NaN)},{Value(gate?.OpenFraction ?? double.NaN)},{Value(layer.MedianHorizon)},{layer.NeuronsRemembering(length / 2.0)},{Value(layer.RecurrentWeights.Min())},{Value(layer.RecurrentWeights.Max())},{Value(layer.ShortTermSpectralNorm)}\n"));
            }
            File.AppendAllText(CsvPath(directory, length, model), text.ToString());
        }

        private static string Value(double v) =>
            double.IsNaN(v) ? "" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("G6", CultureInfo.InvariantCulture);
    }
}
