using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// What a stack allocates (issue 18). Options it cannot build are refused before any tensor exists, with an
    /// <see cref="ArgumentOutOfRangeException"/> naming the option and the limit: a size above 2^31 − 1 (the kernels'
    /// index range), a weight of more than 2^31 − 1 elements, more than 2^36 weights in all, MAG below 1. And no tensor
    /// outlives the stack: construction and <c>reset_parameters()</c> create nothing but the parameters and buffers,
    /// which the stack's <c>Dispose()</c> frees (before commit 1689ccd every <c>Init.Zeros</c> leaked the wrapper that
    /// TorchSharp 0.107's <c>zero_()</c> returns: one live tensor per zero-initialised bias, at construction and again at
    /// every reset). Live tensors are counted with <c>DisposeScopeManager.Statistics.ThreadTotalLiveCount</c>.
    /// </summary>
    /// <remarks>
    /// The huge sizes are asked for on the META device (shapes without storage): the checks come before any
    /// allocation whatever the device, and should they ever regress, the test fails on its live tensor count instead
    /// of asking the machine for terabytes. Before 1689ccd the sizes were checked for &gt; 0 only: a 2^40 size or a
    /// 50 000 × 50 000 weight went to the allocator (on the CPU: an out-of-memory error from LibTorch after the layers
    /// before it were built, or 10 GB touched by the initialisation), and 2^20 layers were built one by one.
    /// </remarks>
    [Collection("Sequential")]
    public sealed class AllocationTests
    {
        private const long TwoTo40 = 1L << 40;

        /// <summary>A refused stack by case name: the option the exception must name, its message, and the construction.</summary>
        private static readonly Dictionary<string, (string option, string message, Func<StackKind, StackUnderTest> construct)> Refused = new()
        {
            ["hiddenSize = 2^40"] = ("hiddenSize", "hiddenSize must be at most 2147483647 (2^31 − 1*got 1099511627776*",
                k => Create(k, new StackSpec(3, TwoTo40))),
            ["inputSize = 2^40"] = ("inputSize", "inputSize must be at most 2147483647 (2^31 − 1*got 1099511627776*",
                k => Create(k, new StackSpec(TwoTo40, 8))),
            ["numLayers = 2^40"] = ("numLayers", "numLayers must be at most 2147483647 (2^31 − 1*got 1099511627776*",
                k => Create(k, new StackSpec(3, 8, TwoTo40))),
            ["2^20 layers of 1024"] = ("numLayers", "1048576 layers of hidden size 1024 (input 3, 1 direction(s)) would hold about *weights; at most 2^36 are supported.*",
                k => Create(k, new StackSpec(3, 1024, 1L << 20))),
            ["hiddenSize = 50 000"] = ("hiddenSize", "*would be 50000 × 50000 = * elements; at most 2147483647 (2^31 − 1) are supported. Check hiddenSize.*",
                k => Create(k, new StackSpec(3, 50_000, 2))),
            ["mag = 0.5"] = ("mag", "mag (MAG) must be finite and ≥ 1*", k => Create(k, new StackSpec(3, 8) { Mag = 0.5, MaxSequenceLength = 100 })),
            ["mag = 0.999"] = ("mag", "mag (MAG) must be finite and ≥ 1*", k => Create(k, new StackSpec(3, 8) { Mag = 0.999, MaxSequenceLength = 100 })),
            // DuRNN only: S.
            ["shortTermSize = 2^40"] = ("shortTermSize", "shortTermSize must be at most 2147483647 (2^31 − 1*got 1099511627776*",
                k => Create(k, new StackSpec(3, 8) { ShortTermSize = TwoTo40 })),
            ["shortTermSize = 50 000"] = ("shortTermSize", "U_s would be 50000 × 50000 = * elements; at most 2147483647 (2^31 − 1) are supported. Check shortTermSize.*",
                k => Create(k, new StackSpec(3, 8) { ShortTermSize = 50_000 })),
        };

        private static readonly string[] DuRnnOnly = { "shortTermSize = 2^40", "shortTermSize = 50 000" };

        /// <summary>On the META device: no storage, whatever the shapes.</summary>
        private static StackUnderTest Create(StackKind kind, StackSpec spec) => StackUnderTest.Create(kind, spec with { Device = torch.META });

        public static IEnumerable<object[]> RefusedCases() =>
            from kind in TestData.Kinds
            from name in Refused.Keys
            where kind == StackKind.DuRNN || !DuRnnOnly.Contains(name)
            select new object[] { kind, name };

        [Theory]
        [MemberData(nameof(RefusedCases))]
        public void OptionsBeyondTheLimitsAreRefusedBeforeAnyTensorIsAllocated(StackKind kind, string name)
        {
            var (option, message, construct) = Refused[name];
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var error = FluentActions.Invoking(() => construct(kind)).Should().Throw<ArgumentOutOfRangeException>().Which;
            error.ParamName.Should().Be(option);
            error.Message.Should().Match(message);
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "nothing is allocated for a stack that cannot be built");
        }

        /// <summary>
        /// MAG = 1 is the smallest MAG allowed: U_bound = 1^(1/T_max) = 1 (no neuron may amplify), and with
        /// <c>longMemoryLastLayer</c> the last layer starts at U_lowbound = 1, so every u of it is exactly 1; the other
        /// layers' u lie in [0, 1]; <c>ApplyConstraints()</c> leaves them so.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void MagOneIsAllowedAndStartsTheLongMemoryLayerAtOne(StackKind kind)
        {
            torch.manual_seed(1840);
            using var model = StackUnderTest.Create(kind, new StackSpec(3, 8, 2) { Mag = 1.0, MaxSequenceLength = 100, LongMemoryLastLayer = true });
            model.RecurrentBound.Should().Be(1.0);
            for (int round = 0; round < 2; round++)
            {
                var cells = model.LongTermCells;
                cells.Should().HaveCount(2);
                cells.Should().OnlyContain(c => c.RecurrentBound == 1.0 && c.RecurrentLowBound == 1.0);
                cells[1].weight_hh.data<float>().ToArray().Should().OnlyContain(u => u == 1f, "the long-memory last layer starts at U_lowbound = 1");
                cells[0].weight_hh.data<float>().ToArray().Should().OnlyContain(u => u >= 0f && u <= 1f, "the other layers start in [0, U_bound]");
                model.ApplyConstraints();
            }
        }

        /// <summary>
        /// Construction, <c>reset_parameters()</c> (three times) and <c>Dispose()</c> of a 2-layer bidirectional stack,
        /// with and without BatchNorm, leave the live tensor count where it was.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void NoTensorOutlivesConstructionResetAndDispose(StackKind kind)
        {
            torch.manual_seed(1841);
            foreach (bool batchNorm in new[] { false, true })
            {
                long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                var spec = new StackSpec(3, 6, 2) { Bidirectional = true, BatchNorm = batchNorm, MaxSequenceLength = 50, LongMemoryLastLayer = true };
                var model = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? spec with { ShortTermSize = 4 } : spec);
                long parameters = model.state_dict().Count;
                DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before + parameters,
                    $"a new stack (BatchNorm {batchNorm}) holds its {parameters} parameters and buffers and nothing else");
                for (int i = 0; i < 3; i++) model.reset_parameters();
                DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before + parameters, $"reset_parameters() allocates nothing that stays (BatchNorm {batchNorm})");
                model.Dispose();
                DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, $"Dispose() frees every tensor of the stack (BatchNorm {batchNorm})");
            }
        }

        /// <summary>
        /// The weight limit is per weight the stack holds: stacks whose every weight is small are built, even with a
        /// hidden size whose square exceeds 2^31 − 1 — a one-layer IndRNN with H = 50 000 (W is 50 000 × 3; no H × H
        /// weight exists), and a DuRNN with H = 50 000 and S = 10 (its largest weights, W_h and layer 1's W_s and W_gx,
        /// have 500 000 elements; a DuRNN layer reads its input through S rows, not H). On the CPU: 8 MB at most.
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindCases), MemberType = typeof(TestData))]
        public void AWideStackWhoseWeightsAreAllSmallIsBuilt(StackKind kind)
        {
            var spec = kind == StackKind.DuRNN ? new StackSpec(3, 50_000, 2) { ShortTermSize = 10 } : new StackSpec(3, 50_000, 1);
            StackUnderTest? model = null;
            FluentActions.Invoking(() => model = StackUnderTest.Create(kind, spec)).Should().NotThrow("no weight of this stack has more than 2^31 − 1 elements");
            using (model)
                model!.parameters().Max(p => p.numel()).Should().BeLessThanOrEqualTo(500_000);
        }
    }
}
