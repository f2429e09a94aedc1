using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// The valid lengths of the sequences of a padded batch (T, B, ·), checked once, with the index tensors built
    /// from them: which positions are valid, where each sequence's valid part reversed lands, the order by decreasing
    /// length and PyTorch's <c>batch_sizes</c>. Sequence b is valid at steps 0..len_b − 1; 1 ≤ len_b ≤ T.
    /// </summary>
    internal sealed class SequenceLengths
    {
        private SequenceLengths(long[] values, long steps)
        {
            Values = values;
            Steps = steps;
        }

        /// <summary>len_b for every sequence b, in batch order.</summary>
        internal long[] Values { get; }

        /// <summary>T, the padded number of steps.</summary>
        internal long Steps { get; }

        /// <summary>B, the number of sequences.</summary>
        internal long Batch => Values.Length;

        /// <summary>True when every sequence spans all T steps (nothing is padded).</summary>
        internal bool Full => Values.All(v => v == Steps);

        /// <summary>
        /// Checks <paramref name="lengths"/> against a padded batch of <paramref name="batch"/> sequences of
        /// <paramref name="steps"/> steps: a 1-D int64 CPU tensor of size B with every length in [1, T] (the form
        /// <c>torch.nn.utils.rnn.pack_padded_sequence</c> takes).
        /// </summary>
        internal static SequenceLengths Check(Tensor lengths, long batch, long steps, string name)
        {
            if (lengths is null) throw new ArgumentNullException(name);
            if (lengths.dtype != ScalarType.Int64)
                throw new ArgumentException($"{name} must have dtype Int64 (one length per sequence, as pack_padded_sequence takes); got {lengths.dtype}.", name);
            if (lengths.device.type != DeviceType.CPU)
                throw new ArgumentException($"{name} must be on the CPU (as pack_padded_sequence requires), whatever the input's device; got {lengths.device}.", name);
            if (lengths.dim() != 1 || lengths.shape[0] != batch)
                throw new ArgumentException($"{name} must be 1-D of shape {DuRnn.Check.Shape(batch)} (one length per sequence, B = {batch}); got shape {DuRnn.Check.Shape(lengths)}.", name);
            long[] values;
            using (var contiguous = lengths.contiguous())
                values = contiguous.data<long>().ToArray();
            return Check(values, steps, name);
        }

        /// <summary>Checks that every length is in [1, <paramref name="steps"/>].</summary>
        internal static SequenceLengths Check(long[] values, long steps, string name)
        {
            for (int b = 0; b < values.Length; b++)
            {
                if (values[b] < 1 || values[b] > steps)
                    throw new ArgumentOutOfRangeException(name, values[b],
                        $"{name}[{b}] = {values[b]}: every length must be in [1, T] with T = {steps} (the input's number of steps).");
            }
            return new SequenceLengths(values, steps);
        }

        /// <summary>The lengths as a 1-D int64 CPU tensor.</summary>
        internal Tensor ToTensor() => torch.tensor(Values, dtype: ScalarType.Int64);

        /// <summary>(T, B, 1) bool on <paramref name="device"/>: true where t &lt; len_b.</summary>
        internal Tensor Valid(Device device)
        {
            using var time = torch.arange(Steps, dtype: ScalarType.Int64).unsqueeze(1);
            using var len = ToTensor().unsqueeze(0);
            using var valid = time.lt(len).unsqueeze(2);
            return valid.to(device);
        }

        /// <summary>
        /// (T, B, 1) int64 on <paramref name="device"/>: for <c>gather</c> along time, the step whose value lands at
        /// step t when each sequence's valid part is reversed: len_b − 1 − t for t &lt; len_b, t itself for padded
        /// steps (which stay where they are). Its own inverse.
        /// </summary>
        internal Tensor ReverseIndex(Device device)
        {
            var index = new long[Steps * Batch];
            for (long t = 0; t < Steps; t++)
                for (long b = 0; b < Batch; b++)
                    index[t * Batch + b] = t < Values[b] ? Values[b] - 1 - t : t;
            using var cpu = torch.tensor(index, new[] { Steps, Batch, 1L }, dtype: ScalarType.Int64);
            return cpu.to(device);
        }

        /// <summary>The flat indices t·B + b of the valid positions of a (T, B, ·) tensor seen as (T·B, ·), ascending.</summary>
        internal Tensor ValidFlatIndex(Device device)
        {
            var index = new long[Values.Sum()];
            long k = 0;
            for (long t = 0; t < Steps; t++)
                for (long b = 0; b < Batch; b++)
                    if (t < Values[b]) index[k++] = t * Batch + b;
            using var cpu = torch.tensor(index, dtype: ScalarType.Int64);
            return cpu.to(device);
        }

        /// <summary>The batch order by decreasing length (stable: equal lengths keep their order).</summary>
        internal long[] DescendingOrder() =>
            Enumerable.Range(0, Values.Length).OrderByDescending(b => Values[b]).Select(b => (long)b).ToArray();

        /// <summary>
        /// PyTorch's <c>batch_sizes</c>: for each step t, the number of sequences valid at t. With the sequences in
        /// <see cref="DescendingOrder"/>, those are the first batchSizes[t] rows.
        /// </summary>
        internal int[] BatchSizes()
        {
            var sizes = new int[Steps];
            foreach (long len in Values)
                for (long t = 0; t < len; t++)
                    sizes[t]++;
            return sizes;
        }
    }
}
