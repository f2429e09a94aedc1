namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>Receives the progress of one model's training.</summary>
    internal interface IProgressSink
    {
        /// <summary>When training continues from a checkpoint, with its last evaluation.</summary>
        void OnResumed(CurvePoint last);

        /// <summary>After every training step, with the training time so far and the step's loss in bits per character.</summary>
        void OnStep(int step, double seconds, double bpc);

        /// <summary>An evaluation on <paramref name="part"/> ("validation" or "test") begins.</summary>
        void OnEvaluating(string part);

        /// <summary>After every evaluation on the validation text.</summary>
        void OnEvaluated(CurvePoint point);
    }
}
