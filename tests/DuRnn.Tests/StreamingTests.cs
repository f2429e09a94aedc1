using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DuRnn.Tests
{
    /// <summary>
    /// Streaming: step-wise (T = 1 per call) and chunked calls carrying the <see cref="DuRNNState"/> equal one call
    /// over the whole sequence, for every implementation (Reference, Batched, Fused); truncated backpropagation through time with
    /// <see cref="DuRNNState.Detach"/> trains chunk by chunk and no gradient crosses a detach. That holds for
    /// unidirectional stacks only: a bidirectional stack streamed in chunks differs from one call (its backward
    /// direction needs the future), as the README says and
    /// <see cref="ABidirectionalStackStreamedInChunksDiffersFromOneCallInItsBackwardHalf"/> pins for both stack kinds.
    /// </summary>
    /// <remarks>
    /// Tolerances (float64): rtol 1e-10, atol 1e-12, as in <see cref="ImplementationParityTests"/>: the calls run the
    /// same operations per step; only the all-steps-at-once products see different row counts (T·B vs B), which BLAS
    /// may block differently (summation order, ~1e-15 relative).
    /// </remarks>
    [Collection("Sequential")]
    public sealed class StreamingTests : IDisposable
    {
        private readonly SingleThreaded _singleThreaded = new();
        private readonly ITestOutputHelper _output;

        public StreamingTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => _singleThreaded.Dispose();

        private const ScalarType F64 = ScalarType.Float64;
        private const double Rtol = 1e-10, Atol = 1e-12;

        public static IEnumerable<object[]> Cases =>
            from impl in TestData.Implementations
            from batchFirst in new[] { false, true }
            select new object[] { impl, batchFirst };

        /// <summary>
        /// A 3-layer stack with every option that keeps sequences independent in eval mode: residual connections
        /// (I = H, so on every layer), BatchNorm with random running statistics, dropout (off in eval mode).
        /// </summary>
        [Theory]
        [MemberData(nameof(Cases))]
        public void StepwiseAndChunkedCallsEqualOneCall(DuRNNImplementation implementation, bool batchFirst)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(71);
            const long T = 12, B = 3, H = 5, S = 4, L = 3;
            var model = new DuRNN(H, H, L, shortTermSize: S, activation: ShortTermActivation.Tanh, batchNorm: true,
                residual: true, batchFirst: batchFirst, dropout: 0.3, dtype: F64) { Implementation = implementation };
            TestData.Randomize(model);
            using (torch.no_grad())
            {
                foreach (var (key, value) in model.state_dict().Where(kv => kv.Key.EndsWith("running_mean"))) value.normal_(0, 0.5);
                foreach (var (key, value) in model.state_dict().Where(kv => kv.Key.EndsWith("running_var"))) value.uniform_(0.5, 2.0);
            }
            model.eval();
            int time = batchFirst ? 1 : 0;
            var x = batchFirst ? torch.randn(B, T, H, dtype: F64) : torch.randn(T, B, H, dtype: F64);
            var initial = new DuRNNState(torch.rand(L, B, S, dtype: F64), torch.rand(L, B, H, dtype: F64));

            var (whole, wholeState) = model.call(x, initial);

            // One step per call.
            var state = initial;
            var steps = new List<Tensor>();
            for (long t = 0; t < T; t++)
            {
                var (y, next) = model.call(x.narrow(time, t, 1), state);
                y.shape[time].Should().Be(1);
                steps.Add(y);
                state = next;
            }
            TensorAssert.Close(torch.cat(steps, time), whole, Rtol, Atol, $"{implementation}: step-wise output");
            TensorAssert.Close(state.ShortTerm, wholeState.ShortTerm, Rtol, Atol, $"{implementation}: step-wise s_n");
            TensorAssert.Close(state.LongTerm, wholeState.LongTerm, Rtol, Atol, $"{implementation}: step-wise h_n");

            // Uneven chunks, starting from the same initial state.
            state = initial;
            var chunks = new List<Tensor>();
            long start = 0;
            foreach (long size in new long[] { 5, 1, 4, 2 })
            {
                var (y, next) = model.call(x.narrow(time, start, size), state);
                chunks.Add(y);
                state = next;
                start += size;
            }
            TensorAssert.Close(torch.cat(chunks, time), whole, Rtol, Atol, $"{implementation}: chunked output");
            TensorAssert.Close(state.ShortTerm, wholeState.ShortTerm, Rtol, Atol, $"{implementation}: chunked s_n");
            TensorAssert.Close(state.LongTerm, wholeState.LongTerm, Rtol, Atol, $"{implementation}: chunked h_n");
        }

        /// <summary>
        /// Streaming equals one call only for a unidirectional stack (for both kinds and every implementation that is
        /// <see cref="ApiTests.TwoHalvesWithTheStateCarriedOverEqualTheWhole"/>): the backward direction reads each chunk
        /// from its own end, without the steps that come after it. A one-layer bidirectional stack fed in two chunks with
        /// the state carried over gives one call's forward half (the forward direction is a unidirectional stack, to the
        /// same tolerance as above) and another backward half: at the end of every chunk but the last, the backward
        /// direction starts where one call would have the whole future behind it. In a 2-layer bidirectional stack the
        /// difference reaches the forward half too, since layer 2 reads layer 1's backward half: the output differs from
        /// one call in both halves, already within the first chunk. "Differs": by more than 1e-3 at the worst element
        /// (O(1) random weights; equality would be within 1e-12).
        /// </summary>
        [Theory]
        [MemberData(nameof(TestData.KindAndImplementationCases), MemberType = typeof(TestData))]
        public void ABidirectionalStackStreamedInChunksDiffersFromOneCallInItsBackwardHalf(StackKind kind, DuRNNImplementation implementation)
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(kind == StackKind.DuRNN ? 74 : 75);
            const long T = 10, B = 3, I = 4, H = 5, Cut = 6;
            var x = torch.randn(T, B, I, dtype: F64);

            foreach (long layers in new long[] { 1, 2 })
            {
                var spec = new StackSpec(I, H, layers) { Bidirectional = true, DType = F64 };
                using var model = StackUnderTest.Create(kind, kind == StackKind.DuRNN ? spec with { ShortTermSize = 4 } : spec);
                model.Implementation = implementation;
                model.Randomize();
                model.eval();
                var (whole, _) = model.Call(x);
                var (first, carried) = model.Call(x[..(int)Cut]);
                var (second, _) = model.Call(x[(int)Cut..], carried);
                var streamed = torch.cat(new[] { first, second });
                streamed.shape.Should().Equal(whole.shape);

                double MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<double>();
                var forward = (streamed[.., .., ..(int)H], whole[.., .., ..(int)H]);
                var backward = (streamed[.., .., (int)H..], whole[.., .., (int)H..]);
                _output.WriteLine($"{kind} {implementation}, {layers} layer(s): max |streamed − one call| forward {MaxDifference(forward.Item1, forward.Item2):G3}, backward {MaxDifference(backward.Item1, backward.Item2):G3}");
                if (layers == 1)
                {
                    TensorAssert.Close(forward.Item1, forward.Item2, Rtol, Atol, $"{kind} {implementation}: forward half, streamed = one call");
                    MaxDifference(backward.Item1, backward.Item2).Should().BeGreaterThan(1e-3, "the backward direction needs the steps after the chunk");
                }
                else
                {
                    MaxDifference(forward.Item1[..(int)Cut], forward.Item2[..(int)Cut]).Should().BeGreaterThan(1e-3,
                        "layer 2's forward direction reads layer 1's backward half, which differs within the first chunk");
                    MaxDifference(backward.Item1, backward.Item2).Should().BeGreaterThan(1e-3, "the backward direction needs the steps after the chunk");
                }
            }
        }

        [Fact]
        public void DetachKeepsTheValuesAndCutsTheGraph()
        {
            using var scope = torch.NewDisposeScope();
            torch.manual_seed(72);
            var model = new DuRNN(3, 4, 2, dtype: F64);
            var x = torch.randn(5, 2, 3, dtype: F64).requires_grad_();
            var (_, state) = model.call(x);
            state.LongTerm.requires_grad.Should().BeTrue();
            var detached = state.Detach();
            detached.ShortTerm.requires_grad.Should().BeFalse();
            detached.LongTerm.requires_grad.Should().BeFalse();
            TensorAssert.Close(detached.ShortTerm, state.ShortTerm, 0, 0, "s");
            TensorAssert.Close(detached.LongTerm, state.LongTerm, 0, 0, "h");
        }

        /// <summary>
        /// Truncated BPTT as in the README: a long sequence cut into chunks, one optimizer step per chunk, the state
        /// carried over with <see cref="DuRNNState.Detach"/> and moved out of each chunk's dispose scope. Checks, at
        /// every chunk: the previous chunk's input receives no gradient from this chunk's loss (it would without the
        /// detach: shown first), and the parameters' gradients are exactly those of this chunk alone, started from a
        /// constant state. Over a few epochs the loss falls (the target x_t[0] + x_{t−1}[0] needs the carried state).
        /// </summary>
        [Theory]
        [InlineData(DuRNNImplementation.Reference)]
        [InlineData(DuRNNImplementation.Batched)]
        [InlineData(DuRNNImplementation.Fused)]
        public void TruncatedBackpropagationThroughTime(DuRNNImplementation implementation)
        {
            using var outer = torch.NewDisposeScope();
            torch.manual_seed(73);
            const long T = 12, Chunk = 4, B = 4, I = 2, H = 8;
            var model = new DuRNN(I, H, 2, dtype: F64) { Implementation = implementation };
            TestData.Randomize(model);
            var readout = torch.nn.Linear(H, 1, dtype: F64);
            var parameters = model.parameters().Concat(readout.parameters()).ToList();
            var optimizer = torch.optim.Adam(parameters, lr: 3e-3);
            var inputs = Enumerable.Range(0, (int)(T / Chunk)).Select(_ => torch.randn(Chunk, B, I, dtype: F64).requires_grad_()).ToArray();
            // Target: the first feature of the current plus the previous step (across chunk borders too).
            var first = torch.cat(inputs.Select(x => x.detach()[.., .., ..1]).ToArray());
            var sum = first + torch.cat(new[] { torch.zeros(1, B, 1, dtype: F64), first[..^1] });
            var targets = Enumerable.Range(0, inputs.Length).Select(k => sum[(k * (int)Chunk)..((k + 1) * (int)Chunk)]).ToArray();

            Tensor ChunkLoss(Tensor output, int k) => torch.nn.functional.mse_loss(readout.call(output), targets[k]);

            // Control: without the detach, the second chunk's loss reaches the first chunk's input.
            {
                using var scope = torch.NewDisposeScope();
                var (_, carried) = model.call(inputs[0]);
                var (y1, _) = model.call(inputs[1], carried);
                var grad = torch.autograd.grad(new[] { ChunkLoss(y1, 1) }, new[] { inputs[0] })[0];
                grad.abs().max().item<double>().Should().BeGreaterThan(1e-6, "gradient flows across chunks through an undetached state");
            }

            var epochLosses = new List<double>();
            for (int epoch = 0; epoch < 20; epoch++)
            {
                DuRNNState? state = null;
                double epochLoss = 0;
                foreach (var x in inputs) x.grad?.zero_();
                for (int k = 0; k < inputs.Length; k++)
                {
                    using var scope = torch.NewDisposeScope();
                    optimizer.zero_grad();
                    var (output, next) = model.call(inputs[k], state);
                    var loss = ChunkLoss(output, k);
                    var previousGrad = k > 0 ? inputs[k - 1].grad!.clone() : null;
                    loss.backward();
                    epochLoss += loss.item<double>();

                    if (previousGrad is not null)
                        TensorAssert.Close(inputs[k - 1].grad, previousGrad, 0, 0, $"epoch {epoch}, chunk {k}: previous chunk's input gradient is untouched");
                    var gradients = parameters.Select(p => p.grad!.clone()).ToList();
                    optimizer.zero_grad();
                    var constant = state is null ? null : new DuRNNState(state.ShortTerm.clone(), state.LongTerm.clone());
                    var (alone, _) = model.call(inputs[k].detach(), constant);
                    ChunkLoss(alone, k).backward();
                    for (int p = 0; p < parameters.Count; p++)
                        TensorAssert.Close(parameters[p].grad, gradients[p], 0, 0, $"epoch {epoch}, chunk {k}: gradient of parameter {p} is this chunk's alone");

                    optimizer.step();
                    model.ApplyConstraints();
                    state?.Dispose();
                    state = next.Detach().MoveToOuterDisposeScope();
                }
                state?.Dispose();
                epochLosses.Add(epochLoss);
            }
            _output.WriteLine($"{implementation}: loss per epoch " + string.Join(", ", epochLosses.Select(l => l.ToString("G4"))));
            epochLosses[^1].Should().BeLessThan(0.5 * epochLosses[0], "training chunk by chunk fits the fixed target");
        }
    }
}
