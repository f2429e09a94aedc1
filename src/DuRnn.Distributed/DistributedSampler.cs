using System;

namespace DuRnn.Distributed
{
    /// <summary>
    /// Splits the indices 0 … N − 1 of a dataset among the ranks, one epoch at a time: every rank draws the same
    /// permutation from (<see cref="Seed"/>, epoch) and takes every <see cref="Size"/>-th element of it, starting at its
    /// <see cref="Rank"/>. The shards of one epoch are disjoint and equal in size, so the ranks take the same number of
    /// steps and each step averages gradients over equal shares.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Strided shards.</b> Rank r's i-th index is position i·Size + r of the permutation. So when every rank takes
    /// its next b indices per step, the ranks together take positions k·b·Size … (k+1)·b·Size − 1 at step k: exactly
    /// the batch a single process with batch b·Size would take from the same permutation.
    /// </para>
    /// <para>
    /// <b>The remainder.</b> When N is not a multiple of Size, the epoch is either padded or cut so that the shards
    /// stay equal: with <see cref="DropRemainder"/> false (the default, as PyTorch's DistributedSampler), the
    /// permutation is extended by its own first elements to ⌈N / Size⌉·Size positions, so up to Size − 1 samples are
    /// seen twice in that epoch; with <see cref="DropRemainder"/> true it is cut to ⌊N / Size⌋·Size positions, so up to
    /// Size − 1 samples — different ones each epoch when shuffled — are not seen in that epoch.
    /// </para>
    /// <para>
    /// The permutation does not depend on the rank, the number of ranks, the machine or the .NET version (SplitMix64
    /// and Fisher–Yates, not <see cref="Random"/>). Without shuffling the order is 0 … N − 1 every epoch.
    /// </para>
    /// </remarks>
    public sealed class DistributedSampler
    {
        /// <summary>A sampler for this process's rank in <paramref name="session"/>.</summary>
        /// <param name="session">The session whose <see cref="MpiSession.Rank"/> and <see cref="MpiSession.Size"/> to use.</param>
        /// <param name="datasetSize">N, the number of samples, at least 1.</param>
        /// <param name="seed">The seed of the per-epoch permutations; the same on every rank.</param>
        /// <param name="shuffle">Whether to shuffle every epoch (false: 0 … N − 1 in order).</param>
        /// <param name="dropRemainder">Cut the remainder instead of padding (see the remarks).</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="datasetSize"/> below 1.</exception>
        public DistributedSampler(MpiSession session, long datasetSize, long seed, bool shuffle = true, bool dropRemainder = false)
            : this(datasetSize, (session ?? throw new ArgumentNullException(nameof(session))).Rank, session.Size, seed, shuffle, dropRemainder)
        {
        }

        /// <summary>A sampler for rank <paramref name="rank"/> of <paramref name="size"/> ranks (without a session, e.g. to test or plan).</summary>
        /// <param name="datasetSize">N, the number of samples, at least 1.</param>
        /// <param name="rank">This rank, 0 to <paramref name="size"/> − 1.</param>
        /// <param name="size">The number of ranks, at least 1.</param>
        /// <param name="seed">The seed of the per-epoch permutations; the same on every rank.</param>
        /// <param name="shuffle">Whether to shuffle every epoch (false: 0 … N − 1 in order).</param>
        /// <param name="dropRemainder">Cut the remainder instead of padding (see the remarks).</param>
        /// <exception cref="ArgumentOutOfRangeException">A size below 1, or a rank outside 0 … size − 1.</exception>
        public DistributedSampler(long datasetSize, int rank, int size, long seed, bool shuffle = true, bool dropRemainder = false)
        {
            if (datasetSize < 1)
                throw new ArgumentOutOfRangeException(nameof(datasetSize), datasetSize, "The dataset must hold at least one sample.");
            if (size < 1)
                throw new ArgumentOutOfRangeException(nameof(size), size, "There must be at least one rank.");
            if (rank < 0 || rank >= size)
                throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be 0 to {size - 1}.");
            DatasetSize = datasetSize;
            Rank = rank;
            Size = size;
            Seed = seed;
            Shuffle = shuffle;
            DropRemainder = dropRemainder;
            ShardSize = dropRemainder ? datasetSize / size : (datasetSize + size - 1) / size;
        }

        /// <summary>N, the number of samples.</summary>
        public long DatasetSize { get; }

        /// <summary>This sampler's rank.</summary>
        public int Rank { get; }

        /// <summary>The number of ranks.</summary>
        public int Size { get; }

        /// <summary>The seed of the per-epoch permutations.</summary>
        public long Seed { get; }

        /// <summary>Whether every epoch is shuffled.</summary>
        public bool Shuffle { get; }

        /// <summary>Whether the remainder is cut (true) or padded (false).</summary>
        public bool DropRemainder { get; }

        /// <summary>
        /// The number of indices every rank gets per epoch: ⌈N / Size⌉ when padding, ⌊N / Size⌋ when cutting (0 when
        /// N &lt; Size and cutting).
        /// </summary>
        public long ShardSize { get; }

        /// <summary>
        /// This rank's indices for <paramref name="epoch"/>, <see cref="ShardSize"/> of them (see the class remarks for the
        /// order and the remainder). Every call computes the epoch's permutation (O(N) time and memory).
        /// </summary>
        /// <param name="epoch">The epoch, 0, 1, ...; each gives another permutation.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
        public long[] Indices(int epoch)
        {
            if (epoch < 0)
                throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "The epoch must be 0 or more.");
            long[] order = Shuffle ? Permutation.Shuffled(DatasetSize, Seed, epoch) : Permutation.Identity(DatasetSize);
            var shard = new long[ShardSize];
            for (long i = 0; i < ShardSize; i++)
                shard[i] = order[(i * Size + Rank) % DatasetSize]; // positions past N wrap to the start (padding)
            return shard;
        }
    }
}
