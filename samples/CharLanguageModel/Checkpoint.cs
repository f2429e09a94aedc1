using System.Collections.Generic;
using System.Globalization;
using System.IO;
using TorchSharp.Modules;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// What a training run needs to continue where it stopped: the model's parameters, Adam's moments and step counts,
    /// the learning curve so far — whose last point (a checkpoint is saved at every evaluation) gives the steps done,
    /// hence the position in the streams, and the training time spent — and the state carried into the next step.
    /// Saved with --checkpoint, read back with --resume: the resumed run reads the same chunks from the same state as one
    /// that never stopped.
    /// </summary>
    /// <remarks>
    /// One folder per model, <c>{out}/checkpoints/{model}</c>, in the samples' shared layout (<see cref="CheckpointFolder"/>:
    /// <c>model.bin</c>, <c>optimizer.bin</c>, <c>settings.txt</c> holding <see cref="Fingerprint"/>), plus
    /// <c>curve.csv</c> and <c>state.bin</c> (<see cref="CarriedState.Save"/>; absent at step 0, before there is a state).
    /// </remarks>
    internal static class Checkpoint
    {
        /// <summary>The file of the carried state in a checkpoint folder.</summary>
        public const string StateFile = "state.bin";

        /// <summary>The file of the learning curve in a checkpoint folder.</summary>
        public const string CurveFile = "curve.csv";

        /// <summary>The folder of the checkpoint of <paramref name="kind"/>.</summary>
        public static string Folder(Options options, ModelKind kind) =>
            Path.Combine(options.OutputDirectory, "checkpoints", Options.Name(kind));

        /// <summary>
        /// The settings a checkpoint must agree with to be resumed: everything that shapes the model, the data or the
        /// optimizer (not --budget-minutes, --steps, --eval-minutes, --threads or the generation options, which a resumed
        /// run may change).
        /// </summary>
        /// <param name="o">The run's options.</param>
        /// <param name="model">The model (its kind and size).</param>
        /// <param name="corpus">What identifies the text: its name, length, hash and vocabulary size.</param>
        public static string Fingerprint(Options o, CharModel model, string corpus) => string.Create(CultureInfo.InvariantCulture,
            $"model={Options.Name(model.Kind)} {corpus} layers={o.Layers} hidden={model.Hidden} embedding={o.Embedding} " +
            $"batch={o.Batch} bptt={o.Bptt} lr={o.LearningRate:R} weight_decay={o.WeightDecay:R} clip_value={Trainer.ClipValue:R} seed={o.Seed}{(o.LibraryOptions.Length > 0 ? " " + o.LibraryOptions : "")}");

        /// <summary>Saves the state at the evaluation that ends <paramref name="curve"/>.</summary>
        public static void Save(Options options, ModelKind kind, string fingerprint, CharModel model, Adam optimizer,
            IReadOnlyList<CurvePoint> curve, CarriedState? state) =>
            CheckpointFolder.Save(Folder(options, kind), fingerprint, model, optimizer, temporary =>
            {
                Results.WriteCurve(Path.Combine(temporary, CurveFile), curve);
                state?.Save(Path.Combine(temporary, StateFile));
            });

        /// <summary>
        /// Loads the checkpoint of <paramref name="kind"/> into <paramref name="model"/> and
        /// <paramref name="optimizer"/>, if there is one.
        /// </summary>
        /// <returns>The curve so far (its last point: the steps done and the training time spent) and the carried state
        /// (null: the next step starts from zeros); null when no checkpoint exists.</returns>
        /// <exception cref="InvalidDataException">The checkpoint was made with other settings, or is damaged.</exception>
        public static (IReadOnlyList<CurvePoint> Curve, CarriedState? State)? TryLoad(Options options, ModelKind kind,
            string fingerprint, CharModel model, Adam optimizer)
        {
            string folder = Folder(options, kind);
            if (!CheckpointFolder.TryLoad(folder, fingerprint, model, optimizer)) return null;
            var curve = Results.ReadCurve(Path.Combine(folder, CurveFile));
            string statePath = Path.Combine(folder, StateFile);
            return (curve, File.Exists(statePath) ? CarriedState.Load(statePath) : null);
        }
    }
}
