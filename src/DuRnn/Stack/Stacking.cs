using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using PackedSequence = TorchSharp.torch.nn.utils.rnn.PackedSequence;

namespace DuRnn
{
    /// <summary>
    /// The steps a recurrent stack (<see cref="DuRNN"/>, <see cref="IndRNN"/>) takes around its layers, written once:
    /// the time reversal that feeds a bidirectional stack's backward direction, the connections between layers
    /// (residual where sizes match, BatchNorm over batch and time, dropout with one mask per sequence shared over time)
    /// and the conversion of packed sequences to the padded form and back. All results are left in the current
    /// dispose scope.
    /// </summary>
    internal static class Stacking
    {
        /// <summary>
        /// Time-reverses a (T, B, F) tensor: whole sequences (flip) when <paramref name="reverseIndex"/> is null, else
        /// only each sequence's valid part (<see cref="SequenceLengths.ReverseIndex"/>; padded steps stay in place).
        /// </summary>
        internal static Tensor Reverse(Tensor x, Tensor? reverseIndex) =>
            reverseIndex is null ? x.flip(0) : x.gather(0, reverseIndex.expand(x.shape[0], x.shape[1], x.shape[2]));

        /// <summary>y + x when the layer's input <paramref name="layerInput"/> has as many features as its output.</summary>
        internal static Tensor Residual(Tensor y, Tensor layerInput) =>
            layerInput.shape[2] == y.shape[2] ? torch.add(y, layerInput, Scalars.One) : y;

        /// <summary>
        /// BatchNorm over batch and time of a (T, B, F) output: the statistics (in train mode) over every position,
        /// or over the valid positions only (<paramref name="validRows"/>, <see cref="SequenceLengths.ValidFlatIndex"/>),
        /// in which case padded positions stay zero.
        /// </summary>
        internal static Tensor Normalize(BatchNorm1d norm, Tensor y, Tensor? validRows)
        {
            long steps = y.shape[0], batch = y.shape[1], features = y.shape[2];
            var flat = y.reshape(steps * batch, features);
            if (validRows is null)
                return norm.call(flat).reshape(steps, batch, features);
            var normalized = norm.call(flat.index_select(0, validRows));
            return torch.zeros_like(flat).index_copy(0, validRows, normalized).reshape(steps, batch, features);
        }

        /// <summary>
        /// Dropout with probability <paramref name="p"/> and one mask per sequence and feature, shared over all steps
        /// (a (1, B, F) mask scaled by 1/(1 − p)); the identity when <paramref name="p"/> is 0 or outside train mode.
        /// The mask is drawn from torch's global generator.
        /// </summary>
        internal static Tensor Dropout(Tensor y, double p, bool training)
        {
            if (!training || p <= 0) return y;
            using var keep = (1 - p).ToScalar();
            var mask = torch.empty(1, y.shape[1], y.shape[2], dtype: y.dtype, device: y.device)
                .bernoulli_(1 - p).div_(keep);
            return y * mask;
        }

        /// <summary>
        /// The BatchNorm layers between the <paramref name="numLayers"/> layers of a stack (one after every layer but
        /// the last) over <paramref name="features"/> features; null when there are none.
        /// </summary>
        internal static ModuleList<BatchNorm1d>? CreateNorms(long numLayers, long features, Device? device, ScalarType? dtype)
        {
            if (numLayers < 2) return null;
            var norms = new List<BatchNorm1d>();
            for (long l = 0; l < numLayers - 1; l++)
            {
                var norm = torch.nn.BatchNorm1d(features, device: device, dtype: dtype);
                // TorchSharp gives the step count the module's dtype; PyTorch (and its state dicts) use int64.
                norm.num_batches_tracked = torch.tensor(0L, dtype: ScalarType.Int64, device: device).DetachFromDisposeScope();
                norms.Add(norm);
            }
            return new ModuleList<BatchNorm1d>(norms.ToArray());
        }

        /// <summary>
        /// A packed batch as a padded one: (T, B, F) in the sequences' original order with zeros at padded steps, and
        /// the checked lengths in that order (<paramref name="name"/> names the packed argument in exceptions).
        /// </summary>
        internal static (Tensor padded, Tensor lengths, SequenceLengths checkedLengths) Unpack(PackedSequence input, string name)
        {
            var (padded, lengths) = torch.nn.utils.rnn.pad_packed_sequence(input);
            var checkedLengths = SequenceLengths.Check(lengths, padded.shape[1], padded.shape[0], name);
            return (padded, lengths, checkedLengths);
        }

        /// <summary>
        /// Packs a padded (T, B, F) output like the packed input it was computed from: the same lengths sorted the same
        /// way, so the result has the input's <c>batch_sizes</c> and <c>sorted_indices</c> (none when the input was
        /// packed with <c>enforce_sorted</c>).
        /// </summary>
        internal static PackedSequence Repack(Tensor output, Tensor lengths, PackedSequence input)
        {
            if (input is null) throw new ArgumentNullException(nameof(input));
            bool presorted = input.sorted_indices.IsInvalid;
            return torch.nn.utils.rnn.pack_padded_sequence(output, lengths, batch_first: false, enforce_sorted: presorted);
        }
    }
}
