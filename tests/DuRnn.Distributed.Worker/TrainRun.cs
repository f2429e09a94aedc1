using System;
using System.Globalization;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn.Distributed.Worker
{
    /// <summary>
    /// The README's training loop made data-parallel: a 2-layer DuRNN and a linear read-out, Adam over the library's
    /// parameter groups, <c>clip_grad_value_</c> and <c>ApplyConstraints()</c>, on a batch that the ranks split into
    /// equal contiguous shares. Every step's whole batch is drawn from its own generator, so one process on the whole
    /// batch and N ranks on its shares see the same data.
    /// </summary>
    internal static class TrainRun
    {
        /// <summary>
        /// Trains and writes this rank's final parameters to <c>--out</c>. Options: <c>--steps</c> (5), <c>--batch</c> (the
        /// whole batch, 8), <c>--length</c> (T, 12), <c>--hidden</c> (8), <c>--seed</c> (1), <c>--dtype</c> (float64 or
        /// float32), <c>--rank-seeds</c> (initialise each rank from another seed: only the broadcast makes them equal),
        /// <c>--no-average</c> (skip the gradient averaging: the ranks then drift apart), <c>--bucket-bytes</c>,
        /// <c>--fail-on-rank R</c> (rank R throws an exception no code catches at step 2: the session must abort the job).
        /// </summary>
        public static void Run(MpiSession mpi, Arguments a)
        {
            int steps = (int)a.Long("steps", 5);
            long batch = a.Long("batch", 8), length = a.Long("length", 12), hidden = a.Long("hidden", 8), seed = a.Long("seed", 1);
            var dtype = a.Text("dtype", "float64") == "float32" ? ScalarType.Float32 : ScalarType.Float64;
            string output = a.Text("out", ".");
            if (batch % mpi.Size != 0)
                throw new ArgumentException($"--batch {batch} is not a multiple of the {mpi.Size} ranks: the shares must be equal.");
            long share = batch / mpi.Size;

            torch.manual_seed(a.Flag("rank-seeds") ? seed + 1000 * mpi.Rank : seed);
            using var model = new DuRNN(2, hidden, numLayers: 2, maxSequenceLength: length, longMemoryLastLayer: true, dtype: dtype);
            using var readout = nn.Linear(hidden, 1, dtype: dtype);
            mpi.BroadcastParameters(model, readout);
            var parameters = model.parameters().Concat(readout.parameters()).ToList();
            using var optimizer = optim.Adam(model.ParameterGroups(lr: 1e-2, weightDecay: 1e-4, others: readout.parameters()), lr: 1e-2);
            using var averager = new GradientAverager(mpi, new nn.Module[] { model, readout }, a.Long("bucket-bytes", GradientAverager.DefaultBucketBytes));
            using var data = new torch.Generator((ulong)(seed + 77));

            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                var x = torch.rand(new[] { length, batch, 2L }, dtype: dtype, generator: data);
                var y = torch.rand(new[] { batch, 1L }, dtype: dtype, generator: data).mul(2);
                var xs = x.narrow(1, mpi.Rank * share, share);
                var ys = y.narrow(0, mpi.Rank * share, share);
                var (outputs, _) = model.call(xs);
                var loss = nn.functional.mse_loss(readout.call(outputs[-1]), ys);
                optimizer.zero_grad();
                loss.backward();
                if (step == 1 && a.Long("fail-on-rank", -1) == mpi.Rank)
                    throw new InvalidOperationException($"--fail-on-rank: rank {mpi.Rank} fails at step 2 while the others wait in the all-reduce");
                if (!a.Flag("no-average"))
                    averager.Average();
                nn.utils.clip_grad_value_(parameters, 10);
                optimizer.step();
                model.ApplyConstraints();
                double mean = mpi.AllReduce(loss.ToDouble(), ReduceOperation.Mean);
                if (mpi.IsRoot)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step + 1}: mean loss over ranks {mean:R}"));
            }

            Directory.CreateDirectory(output);
            ParameterFile.Write(ParameterFile.PathOf(output, mpi.Rank),
                model.named_parameters().Select(p => ("rnn." + p.name, (Tensor)p.parameter))
                    .Concat(readout.named_parameters().Select(p => ("readout." + p.name, (Tensor)p.parameter))));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rank {mpi.Rank} of {mpi.Size} done ({mpi.Description}); {averager.ParameterCount} parameters, {averager.ElementCount} elements, {averager.BucketCount} buckets"));
        }

        /// <summary>
        /// Builds a model whose hidden size is 4 + rank, so the ranks disagree, and reports the error of
        /// <see cref="MpiSession.BroadcastParameters"/> (every rank should get it): exit code 3 when it came.
        /// </summary>
        public static int Mismatch(MpiSession mpi, Arguments a)
        {
            using var model = new DuRNN(2, 4 + mpi.Rank, numLayers: 2);
            try
            {
                mpi.BroadcastParameters(model);
            }
            catch (InvalidOperationException e)
            {
                Console.WriteLine($"rank {mpi.Rank}: {e.Message}");
                return 3;
            }
            Console.WriteLine($"rank {mpi.Rank}: no error");
            return 0;
        }
    }
}
