using System;
using System.IO;
using TorchSharp;
using TorchSharp.Modules;

namespace DuRnn.Samples
{
    /// <summary>
    /// What the samples' checkpoints share (this file is linked into each sample): one folder per run holding
    /// <c>model.bin</c> (<c>Module.save</c>), <c>optimizer.bin</c> (TorchSharp's <c>save_state_dict</c>; not readable by
    /// PyTorch), <c>settings.txt</c> (the fingerprint of the settings a resumed run must agree with) and whatever the
    /// sample adds (its learning curve, its data position). A new checkpoint is written to <c>{folder}.saving</c> and
    /// then swapped in, so a run killed while saving leaves the previous checkpoint intact.
    /// </summary>
    internal static class CheckpointFolder
    {
        /// <summary>The file that holds the fingerprint; its presence marks a complete checkpoint.</summary>
        public const string SettingsFile = "settings.txt";

        /// <summary>
        /// Saves <paramref name="model"/>, <paramref name="optimizer"/> and <paramref name="fingerprint"/> to
        /// <paramref name="folder"/>, with the sample's own files written by <paramref name="writeExtra"/> (given the
        /// temporary folder) in the same swap.
        /// </summary>
        public static void Save(string folder, string fingerprint, torch.nn.Module model, OptimizerHelper optimizer,
            Action<string> writeExtra)
        {
            string temporary = folder + ".saving";
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            Directory.CreateDirectory(temporary);

            model.save(Path.Combine(temporary, "model.bin"));
            optimizer.save_state_dict(Path.Combine(temporary, "optimizer.bin"));
            writeExtra(temporary);
            File.WriteAllText(Path.Combine(temporary, SettingsFile), fingerprint + "\n");

            string previous = folder + ".previous";
            if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
            if (Directory.Exists(folder)) Directory.Move(folder, previous);
            Directory.Move(temporary, folder);
            if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
        }

        /// <summary>
        /// Loads the checkpoint in <paramref name="folder"/> into <paramref name="model"/> and
        /// <paramref name="optimizer"/> when there is one.
        /// </summary>
        /// <returns>False when the folder holds no checkpoint.</returns>
        /// <exception cref="InvalidDataException">The checkpoint was made with other settings.</exception>
        public static bool TryLoad(string folder, string fingerprint, torch.nn.Module model, OptimizerHelper optimizer)
        {
            string settingsPath = Path.Combine(folder, SettingsFile);
            if (!File.Exists(settingsPath)) return false;

            string saved = File.ReadAllText(settingsPath).Trim();
            if (saved != fingerprint)
            {
                throw new InvalidDataException(
                    $"The checkpoint in {folder} was made with other settings: it has '{saved}', this run has '{fingerprint}'. " +
                    "Resume with the same settings, or delete the folder (or drop --resume) to start again.");
            }
            model.load(Path.Combine(folder, "model.bin"));
            optimizer.load_state_dict(Path.Combine(folder, "optimizer.bin"));
            return true;
        }
    }
}
