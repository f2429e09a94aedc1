using System.Collections.Generic;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>One evaluation on the validation text during training: a row of the model's CSV file.</summary>
    /// <param name="Step">Training steps done so far (0: before the first).</param>
    /// <param name="Seconds">Training time so far, in seconds (evaluations excluded; continued across resumes).</param>
    /// <param name="TrainBpc">The mean training loss in bits per character over the steps since the previous row (none at step 0).</param>
    /// <param name="ValidBpc">Bits per character on the whole validation text.</param>
    /// <param name="CpuSeconds">CPU time of the training steps so far (all the process's threads; continued across resumes).</param>
    internal sealed record CurvePoint(int Step, double Seconds, double? TrainBpc, double ValidBpc, double CpuSeconds)
    {
        /// <summary>The training seconds a budget on <paramref name="clock"/> counts.</summary>
        public double Budgeted(BudgetClock clock) => clock == BudgetClock.Cpu ? CpuSeconds : Seconds;
    }

    /// <summary>The outcome of one model: a row of the summary CSV file.</summary>
    /// <param name="Model">Which model.</param>
    /// <param name="Layers">Recurrent layers.</param>
    /// <param name="Hidden">Units per layer.</param>
    /// <param name="Embedding">E, the size of the character embedding.</param>
    /// <param name="Parameters">The number of trainable values.</param>
    /// <param name="Steps">Training steps reached.</param>
    /// <param name="TrainSeconds">Training time, in seconds (evaluations excluded).</param>
    /// <param name="ValidBpc">Bits per character on the validation text at the last evaluation.</param>
    /// <param name="TestBpc">Bits per character on the test text after training.</param>
    /// <param name="CpuSeconds">CPU time of the training steps (all the process's threads).</param>
    internal sealed record ModelSummary(ModelKind Model, int Layers, int Hidden, int Embedding, long Parameters, int Steps,
        double TrainSeconds, double ValidBpc, double TestBpc, double CpuSeconds)
    {
        /// <summary>Training seconds per step (NaN before the first step).</summary>
        public double SecondsPerStep => Steps > 0 ? TrainSeconds / Steps : double.NaN;
    }

    /// <summary>Everything one model's training produced.</summary>
    /// <param name="Summary">The outcome.</param>
    /// <param name="Curve">The learning curve, one point per evaluation.</param>
    /// <param name="StepsThisRun">Training steps taken by this run (after a resume: since the checkpoint).</param>
    /// <param name="ClippedSteps">Steps of this run with a gradient element beyond ±<see cref="Trainer.ClipValue"/> (which
    /// clipping changed).</param>
    /// <param name="MedianGradientNorm">The median of the gradient's global norm (before clipping) over the steps of this
    /// run; NaN without steps.</param>
    /// <param name="DivergedAtStep">The step whose loss was not finite (training stopped there); null when none was.</param>
    internal sealed record TrainingResult(ModelSummary Summary, IReadOnlyList<CurvePoint> Curve, int StepsThisRun,
        int ClippedSteps, double MedianGradientNorm, int? DivergedAtStep);
}
