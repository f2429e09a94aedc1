using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// A variable-length batch prepared once per call (by <see cref="RecurrentStack{TLayer, TState}"/> for every layer
    /// and direction, or by a stand-alone <see cref="DuRNNLayer"/>): the order that sorts the sequences by decreasing length (PyTorch's packed
    /// layout, which the fused recurrence needs), and in that order which positions are valid, PyTorch's
    /// <c>batch_sizes</c>, where each valid part reversed lands and the flat indices of the
    /// valid positions.
    /// </summary>
    internal sealed class SortedBatch
    {
        private readonly Tensor? order;
        private readonly Tensor? restore;

        /// <summary>Builds the index tensors of <paramref name="lengths"/> (in batch order) on <paramref name="device"/>.</summary>
        internal SortedBatch(SequenceLengths lengths, Device device)
        {
            var descending = lengths.DescendingOrder();
            if (descending.Where((b, i) => b != i).Any())
            {
                order = torch.tensor(descending, dtype: ScalarType.Int64, device: device);
                restore = order.argsort();
            }
            Lengths = SequenceLengths.Check(descending.Select(b => lengths.Values[b]).ToArray(), lengths.Steps, "lengths");
            Valid = Lengths.Valid(device);
            BatchSizes = Lengths.BatchSizes();
        }

        /// <summary>
        /// The sorted batch of <paramref name="lengths"/>, and the input <paramref name="x"/> (T, B, I) with its padded
        /// steps zeroed and its sequences sorted by decreasing length: how a variable-length call starts. Zeroing keeps
        /// NaN or Inf padding out of the all-steps-at-once products and their gradients (where 0 · NaN would be NaN), and a
        /// residual connection adds zeros at padded steps.
        /// </summary>
        internal static (SortedBatch batch, Tensor x) Prepare(Tensor x, SequenceLengths lengths)
        {
            var batch = new SortedBatch(lengths, x.device);
            var masked = x.masked_fill(lengths.Valid(x.device).logical_not(), Scalars.Zero);
            return (batch, batch.Sort(masked, 1));
        }

        /// <summary>The lengths in decreasing order: the order of the rows after <see cref="Sort"/>.</summary>
        internal SequenceLengths Lengths { get; }

        /// <summary>(T, B, 1) bool, sorted rows: true where t &lt; len_b.</summary>
        internal Tensor Valid { get; }

        /// <summary>For each step t, the number of rows valid at t (the first ones, in sorted order).</summary>
        internal int[] BatchSizes { get; }

        /// <summary>The rows of <paramref name="x"/> along <paramref name="dim"/> in sorted order.</summary>
        internal Tensor Sort(Tensor x, long dim) => order is null ? x : x.index_select(dim, order);

        /// <summary>The rows of <paramref name="x"/> along <paramref name="dim"/> back in the caller's order.</summary>
        internal Tensor Unsort(Tensor x, long dim) => restore is null ? x : x.index_select(dim, restore);
    }
}
