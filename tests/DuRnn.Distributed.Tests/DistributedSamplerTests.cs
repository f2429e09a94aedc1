using System;
using System.Linq;
using FluentAssertions;
using Xunit;

namespace DuRnn.Distributed.Tests
{
    /// <summary><see cref="DistributedSampler"/>: equal, disjoint, strided shards of one permutation per epoch.</summary>
    public sealed class DistributedSamplerTests
    {
        [Fact]
        public void TheShardsOfAnEpochAreEqualDisjointAndCoverTheDataset()
        {
            var shards = Enumerable.Range(0, 4).Select(r => new DistributedSampler(100, r, 4, seed: 9).Indices(2)).ToList();
            shards.Should().OnlyContain(s => s.Length == 25);
            shards.SelectMany(s => s).Should().BeEquivalentTo(Enumerable.Range(0, 100).Select(i => (long)i));
        }

        [Fact]
        public void TheRanksTogetherTakeTheBatchesOfOneProcessWithTheWholeBatch()
        {
            // 3 ranks taking 4 indices per step take, at step k, the 12 indices a single process takes at step k.
            var single = new DistributedSampler(120, 0, 1, seed: 5).Indices(1);
            var ranks = Enumerable.Range(0, 3).Select(r => new DistributedSampler(120, r, 3, seed: 5).Indices(1)).ToList();
            for (int step = 0; step < 10; step++)
            {
                ranks.SelectMany(s => s.Skip(step * 4).Take(4))
                    .Should().BeEquivalentTo(single.Skip(step * 12).Take(12), $"step {step}");
            }
        }

        [Fact]
        public void EachEpochHasItsOwnPermutationAndTheSameSeedGivesTheSame()
        {
            var sampler = new DistributedSampler(50, 1, 2, seed: 3);
            sampler.Indices(0).Should().Equal(new DistributedSampler(50, 1, 2, seed: 3).Indices(0));
            sampler.Indices(1).Should().NotEqual(sampler.Indices(0));
            new DistributedSampler(50, 1, 2, seed: 4).Indices(0).Should().NotEqual(sampler.Indices(0));
        }

        [Fact]
        public void ThePermutationIsFixedByTheSeedAlone()
        {
            // A golden value: SplitMix64 and Fisher–Yates give this on every machine and .NET version. If this changes,
            // runs resumed with another build would see other batches.
            new DistributedSampler(10, 0, 1, seed: 1).Indices(0).Should().Equal(Golden);
        }

        [Fact]
        public void APaddedEpochRepeatsTheFirstIndicesOfThePermutation()
        {
            var shards = Enumerable.Range(0, 3).Select(r => new DistributedSampler(10, r, 3, seed: 1)).ToList();
            shards.Should().OnlyContain(s => s.ShardSize == 4);
            var all = shards.SelectMany(s => s.Indices(0)).ToList();
            all.Should().HaveCount(12);
            all.Distinct().Should().HaveCount(10);
            // Positions 10 and 11 wrap to positions 0 and 1: rank 1's and rank 2's last index.
            shards[1].Indices(0)[3].Should().Be(Golden[0]);
            shards[2].Indices(0)[3].Should().Be(Golden[1]);
        }

        [Fact]
        public void ADroppedRemainderLeavesOutTheEndOfThePermutation()
        {
            var shards = Enumerable.Range(0, 3).Select(r => new DistributedSampler(10, r, 3, seed: 1, dropRemainder: true)).ToList();
            shards.Should().OnlyContain(s => s.ShardSize == 3);
            shards.SelectMany(s => s.Indices(0)).Should().BeEquivalentTo(Golden.Take(9));
        }

        [Fact]
        public void WithoutShufflingRankRTakesEveryIndexFromR()
        {
            new DistributedSampler(10, 1, 3, seed: 1, shuffle: false).Indices(5).Should().Equal(1L, 4L, 7L, 0L);
            new DistributedSampler(10, 2, 3, seed: 1, shuffle: false, dropRemainder: true).Indices(0).Should().Equal(2L, 5L, 8L);
        }

        [Fact]
        public void BadArgumentsAreRejected()
        {
            var empty = () => new DistributedSampler(0, 0, 1, seed: 1);
            empty.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("datasetSize");
            var rank = () => new DistributedSampler(10, 2, 2, seed: 1);
            rank.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rank");
            var epoch = () => new DistributedSampler(10, 0, 2, seed: 1).Indices(-1);
            epoch.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("epoch");
        }

        /// <summary>The permutation of 10 for seed 1, epoch 0 (also computed by a separate Python implementation of SplitMix64 and Fisher–Yates).</summary>
        private static readonly long[] Golden = { 8, 7, 6, 5, 3, 9, 2, 4, 1, 0 };
    }
}
