using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using DuRnn.Distributed;

namespace DuRnn.Samples.DistributedTraining
{
    /// <summary>One evaluation on the test set during training.</summary>
    /// <param name="Step">Training steps done so far (0: before the first).</param>
    /// <param name="TrainLoss">The training MSE averaged over the ranks and the steps since the previous evaluation (none at step 0).</param>
    /// <param name="TestMse">The MSE on the fixed test set.</param>
    /// <param name="Seconds">Training time so far on rank 0, evaluations excluded.</param>
    internal sealed record CurvePoint(int Step, double? TrainLoss, double TestMse, double Seconds);

    /// <summary>A finished run as rank 0 saw it: the learning curve and the time spent.</summary>
    /// <param name="Curve">One point per evaluation.</param>
    /// <param name="BaselineMse">The test MSE of always predicting 1 (about 1/6).</param>
    /// <param name="Steps">The training steps timed: all but the first (the warm-up).</param>
    /// <param name="TrainingSeconds">Rank 0's time in those steps (evaluations excluded).</param>
    /// <param name="AllReduceSeconds">Rank 0's time in those steps inside MPI_Allreduce of the gradients (waiting for the other ranks included).</param>
    /// <param name="Parameters">The number of parameters whose gradients are averaged.</param>
    internal sealed record DistributedResult(IReadOnlyList<CurvePoint> Curve, double BaselineMse, int Steps,
        double TrainingSeconds, double AllReduceSeconds, long Parameters)
    {
        /// <summary>
        /// Writes <c>distributed-T{T}-{ranks}ranks.csv</c> in <paramref name="directory"/>: step, train_loss, test_mse,
        /// seconds (one row per evaluation).
        /// </summary>
        /// <returns>The path written.</returns>
        public string WriteCsv(string directory, int length, int ranks)
        {
            string path = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"distributed-T{length}-{ranks}ranks.csv"));
            var text = new StringBuilder("step,train_loss,test_mse,seconds\n");
            foreach (var p in Curve)
            {
                text.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Step},{(p.TrainLoss is double l ? l.ToString("R", CultureInfo.InvariantCulture) : "")},{p.TestMse:R},{p.Seconds:0.###}\n"));
            }
            File.WriteAllText(path, text.ToString());
            return path;
        }

        /// <summary>
        /// The closing line: the final test MSE against the baseline, and the speed of training on these ranks (per step
        /// after the first, which warms up).
        /// </summary>
        public string Summary(MpiSession mpi, Options options)
        {
            string result = string.Create(CultureInfo.InvariantCulture,
                $"DistributedTraining: {mpi.Size} rank{(mpi.Size == 1 ? "" : "s")} ({(mpi.Implementation == MpiImplementation.None ? "no MPI" : mpi.Implementation.ToString())}), T = {options.Length}, {Curve[^1].Step} steps of batch {options.Batch}: test MSE {Curve[^1].TestMse:0.0000} (baseline {BaselineMse:0.0000})");
            if (Steps == 0)
                return result + $"; speed not measured (the first step only warms up), {Parameters} parameters";
            double stepMs = 1000 * TrainingSeconds / Steps;
            double allReduceMs = 1000 * AllReduceSeconds / Steps;
            double samplesPerSecond = (double)options.Batch * Steps / TrainingSeconds;
            string allReduce = mpi.Size == 1
                ? "no all-reduce (one rank)"
                : string.Create(CultureInfo.InvariantCulture, $"all-reduce {allReduceMs:0.000} ms per step ({100 * allReduceMs / stepMs:0.0} % of it)");
            return result + string.Create(CultureInfo.InvariantCulture,
                $"; {stepMs:0.0} ms per step, {samplesPerSecond:0} samples/s, {allReduce} (steps 2 to {Curve[^1].Step}), {Parameters} parameters");
        }
    }
}
