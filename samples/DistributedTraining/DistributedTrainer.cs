using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using DuRnn.Distributed;
using DuRnn.Samples.AddingProblem;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Samples.DistributedTraining
{
    /// <summary>
    /// The training loop of the README, data-parallel: the same DuRNN and read-out on every rank (rank 0's initial
    /// weights broadcast to all), each rank a strided shard of a fixed training set per epoch
    /// (<see cref="DistributedSampler"/>), the gradients averaged after every backward pass
    /// (<see cref="GradientAverager"/>), then the same clipping, Adam step and constraint projection on every rank.
    /// </summary>
    internal static class DistributedTrainer
    {
        /// <summary>IndRNN's element-wise gradient clip, as in the AddingProblem sample.</summary>
        private const double GradientClip = 10.0;

        /// <summary>Trains on this rank (collective: every rank calls it with the same options).</summary>
        public static DistributedResult Train(MpiSession mpi, Options options)
        {
            int share = options.Batch / mpi.Size;
            var (trainInputs, trainTargets) = new AddingData(options.Length, options.Seed).Next(options.TrainSize);
            using var inputs = trainInputs;
            using var targets = trainTargets;
            using var testSet = new TestSet(options.Length, options.TestSize, TestSet.ChunkSizeFor(options.Length, options.Hidden));
            var sampler = new DistributedSampler(mpi, options.TrainSize, options.Seed, shuffle: true, dropRemainder: true);
            if (sampler.ShardSize < share)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--train-size {options.TrainSize} gives every rank {sampler.ShardSize} sequences per epoch, fewer than its {share} per step."));
            }

            torch.manual_seed(options.Seed);
            using var model = new DuRNN(AddingData.Features, options.Hidden, numLayers: options.Layers,
                maxSequenceLength: options.Length, longMemoryLastLayer: true);
            using var readout = nn.Linear(options.Hidden, 1);
            mpi.BroadcastParameters(model, readout);
            var parameters = model.parameters().Concat(readout.parameters()).ToList();
            using var optimizer = optim.Adam(
                model.ParameterGroups(options.LearningRate, options.WeightDecay, others: readout.parameters()), lr: options.LearningRate);
            using var averager = new GradientAverager(mpi, model, readout);

            var curve = new List<CurvePoint> { new(0, null, Evaluate(mpi, model, readout, testSet), 0) };
            Report(mpi, curve[^1]);
            var training = new Stopwatch();
            double lossSum = 0, firstStepSeconds = 0, firstAllReduceSeconds = 0;
            int lossCount = 0, epoch = 0, position = 0;
            long[] order = sampler.Indices(epoch);
            for (int step = 1; step <= options.Steps; step++)
            {
                if (position + share > order.Length)
                {
                    order = sampler.Indices(++epoch);
                    position = 0;
                }
                training.Start();
                lossSum += Step(model, readout, parameters, optimizer, averager, inputs, targets, order.AsSpan(position, share));
                training.Stop();
                if (step == 1)
                {
                    // The first step warms up (JIT, first allocations, MPI's first connection): timed apart.
                    firstStepSeconds = training.Elapsed.TotalSeconds;
                    firstAllReduceSeconds = averager.AllReduceTime.TotalSeconds;
                }
                position += share;
                lossCount++;
                if (step % options.EvalEvery == 0 || step == options.Steps)
                {
                    double trainLoss = mpi.AllReduce(lossSum / lossCount, ReduceOperation.Mean);
                    curve.Add(new CurvePoint(step, trainLoss, Evaluate(mpi, model, readout, testSet), training.Elapsed.TotalSeconds));
                    Report(mpi, curve[^1]);
                    lossSum = 0;
                    lossCount = 0;
                }
            }
            return new DistributedResult(curve, testSet.EmpiricalBaselineMse, options.Steps - 1, training.Elapsed.TotalSeconds - firstStepSeconds,
                averager.AllReduceTime.TotalSeconds - firstAllReduceSeconds, averager.ElementCount);
        }

        /// <summary>One training step on this rank's <paramref name="indices"/>; returns this rank's loss.</summary>
        private static double Step(DuRNN model, nn.Module<Tensor, Tensor> readout, IReadOnlyList<TorchSharp.Modules.Parameter> parameters,
            optim.Optimizer optimizer, GradientAverager averager, Tensor inputs, Tensor targets, ReadOnlySpan<long> indices)
        {
            using var scope = NewDisposeScope();
            var index = torch.tensor(indices.ToArray());
            var x = inputs.index_select(1, index);
            var y = targets.index_select(0, index);
            var (output, _) = model.call(x);
            var loss = nn.functional.mse_loss(readout.call(output[-1]).squeeze(-1), y);
            optimizer.zero_grad();
            loss.backward();
            averager.Average();                              // every rank now holds the gradient of the whole batch
            nn.utils.clip_grad_value_(parameters, GradientClip);
            optimizer.step();
            model.ApplyConstraints();
            return loss.ToDouble();
        }

        /// <summary>
        /// The MSE over the whole test set: every rank evaluates every Size-th chunk, and one all-reduce sums the squared
        /// errors and the counts.
        /// </summary>
        private static double Evaluate(MpiSession mpi, DuRNN model, nn.Module<Tensor, Tensor> readout, TestSet testSet)
        {
            using var noGrad = torch.no_grad();
            model.eval();
            Span<double> sums = stackalloc double[2];
            for (int c = mpi.Rank; c < testSet.Chunks.Count; c += mpi.Size)
            {
                using var scope = NewDisposeScope();   // per chunk: each chunk's (T, n, H) output is freed before the next
                var (x, y) = testSet.Chunks[c];
                var (output, _) = model.call(x);
                sums[0] += readout.call(output[-1]).squeeze(-1).sub(y).square().sum().ToDouble();
                sums[1] += y.shape[0];
            }
            model.train();
            mpi.AllReduce(sums, ReduceOperation.Sum);
            return sums[0] / sums[1];
        }

        private static void Report(MpiSession mpi, CurvePoint point)
        {
            if (!mpi.IsRoot) return;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {point.Step,5}: {(point.TrainLoss is double l ? $"train loss {l:0.0000}, " : "")}test MSE {point.TestMse:0.0000}, {point.Seconds:0.0} s of training"));
        }
    }
}
