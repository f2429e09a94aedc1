using System;
using System.Globalization;
using System.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// How many of the last recurrent layer's units the read-out actually gets: the stack's output over a whole part
    /// of the text, read as <see cref="Evaluator.Walk"/> reads it (chunks, the state carried). A unit is <b>silent</b> when its output is 0 (|y| ≤ 1e-6) at every position of the part — for the ReLU units
    /// of DuRNN's and IndRNN's long-term layers, a unit that died during training; LSTM and GRU outputs (tanh) are
    /// practically never silent. The zero fraction is the share of all outputs that are 0.
    /// </summary>
    internal static class UnitActivity
    {
        /// <summary>The output magnitude at or below which a unit counts as silent at a position.</summary>
        public const double SilentBelow = 1e-6;

        /// <summary>What <see cref="Measure"/> found.</summary>
        /// <param name="Units">H, the last layer's units (both directions' outputs for a bidirectional stack).</param>
        /// <param name="Silent">Units whose output was 0 at every position.</param>
        /// <param name="ZeroFraction">The share of all outputs (positions × units) that were 0.</param>
        /// <param name="Positions">Positions (characters × streams) seen.</param>
        internal sealed record Result(long Units, long Silent, double ZeroFraction, long Positions);

        /// <summary>Runs <paramref name="model"/> over <paramref name="part"/> in evaluation mode and counts.</summary>
        public static Result Measure(CharModel model, ParallelStreams part)
        {
            Tensor? largest = null;
            double zeros = 0;
            long positions = 0, units = 0;
            try
            {
                Evaluator.Walk(model, part, (inputs, _, state) =>
                {
                    var (output, next) = model.Recurrent(inputs, state);
                    var magnitude = output.abs();
                    units = output.shape[2];
                    positions += output.shape[0] * output.shape[1];
                    zeros += magnitude.le(SilentBelow).sum().item<long>();
                    var chunkLargest = magnitude.amax(new long[] { 0, 1 });
                    var updated = largest is null ? chunkLargest : torch.maximum(largest, chunkLargest);
                    largest?.Dispose();
                    largest = updated.MoveToOuterDisposeScope();
                    return next;
                });
                long silent = largest is null ? 0 : largest.le(SilentBelow).sum().item<long>();
                return new Result(units, silent, positions == 0 ? 0 : zeros / (positions * (double)units), positions);
            }
            finally
            {
                largest?.Dispose();
            }
        }

        /// <summary>Writes <c>kjv-{model}-units.csv</c> (one row) beside the curves; returns its path.</summary>
        public static string Write(Options o, ModelKind kind, Result r)
        {
            string path = Path.Combine(o.OutputDirectory, $"{o.CorpusName}-{Options.Name(kind)}-units.csv");
            File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture,
                $"model,units,silent_units,zero_fraction,positions,part\n{Options.Name(kind)},{r.Units},{r.Silent},{r.ZeroFraction:0.0000},{r.Positions},validation\n"));
            return path;
        }

        /// <summary>The line the sample prints.</summary>
        public static string Describe(string model, Result r) => string.Create(CultureInfo.InvariantCulture,
            $"{model}: {r.Silent} of {r.Units} units of the last layer silent over the validation text ({r.Positions:N0} positions; {100 * r.ZeroFraction:0.0} % of all outputs 0)");
    }
}
