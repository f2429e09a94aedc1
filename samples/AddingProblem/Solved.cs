using System.Collections.Generic;

namespace DuRnn.Samples.AddingProblem
{
    /// <summary>
    /// The samples' one definition of "solved" for the adding problem: test MSE below <see cref="Threshold"/> (0.01,
    /// about 1/17 of the 0.167 baseline) at <see cref="Consecutive"/> (three) consecutive evaluations on the fixed test
    /// set. The long-sequence runs evaluate every 100 steps, so "solved" there means below 0.01 at three evaluations
    /// 100 steps apart, held over 200 steps of training. Used by the sample's summary and --stop-when-solved, and by the
    /// results tables (this file is linked into samples/ResultTables).
    /// </summary>
    internal static class Solved
    {
        /// <summary>The test MSE a solved run stays below.</summary>
        public const double Threshold = 0.01;

        /// <summary>How many consecutive evaluations must be below <see cref="Threshold"/>.</summary>
        public const int Consecutive = 3;

        /// <summary>The step of the first evaluation below <see cref="Threshold"/>; null when there is none.</summary>
        /// <param name="curve">(step, test MSE) per evaluation, in order.</param>
        public static int? FirstBelow(IEnumerable<(int Step, double TestMse)> curve)
        {
            foreach (var (step, mse) in curve)
            {
                if (mse < Threshold) return step;
            }
            return null;
        }

        /// <summary>
        /// The step at which the run became solved: the <see cref="Consecutive"/>-th of the first run of consecutive
        /// evaluations below <see cref="Threshold"/>; null when the curve never has that many in a row.
        /// </summary>
        /// <param name="curve">(step, test MSE) per evaluation, in order.</param>
        public static int? At(IEnumerable<(int Step, double TestMse)> curve)
        {
            int run = 0;
            foreach (var (step, mse) in curve)
            {
                run = mse < Threshold ? run + 1 : 0;
                if (run == Consecutive) return step;
            }
            return null;
        }
    }
}
