using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    public abstract partial class RecurrentStack<TLayer, TState>
    {
        /// <summary>
        /// Copies parameters and buffers from <paramref name="source"/> into this module, after checking every entry: a
        /// missing or unexpected key (when <paramref name="strict"/>) or a different shape raises one
        /// <see cref="ArgumentException"/> naming every such key with the expected and actual shape, and nothing is
        /// changed. Values of another dtype are converted, as in PyTorch.
        /// </summary>
        /// <param name="source">A state dictionary, e.g. from <c>state_dict()</c> of a module with the same options.</param>
        /// <param name="strict">Whether the keys of <paramref name="source"/> must match this module's keys exactly.</param>
        /// <param name="skip">Keys to leave alone.</param>
        /// <returns>The missing and unexpected keys (empty when <paramref name="strict"/>).</returns>
        public override (IList<string> missing_keys, IList<string> unexpected_keyes) load_state_dict(
            Dictionary<string, Tensor> source, bool strict = true, IList<string>? skip = null)
        {
            if (source is null) throw new ArgumentNullException(nameof(source));
            return StateDicts.CheckAndCopy(this, source, strict, skip, nameof(source));
        }

        /// <summary>
        /// Loads parameters and buffers saved with <c>save()</c> (TorchSharp's format: an entry count, then per entry its
        /// key, dtype, shape and raw bytes). Every entry is read and checked before anything is written: a key that
        /// appears twice, a missing or unexpected key (when <paramref name="strict"/>), a different shape, a dtype that is
        /// not a floating-point one for a floating-point parameter, or a file that ends early raises an exception naming
        /// the key and what was expected, and the module is left as it was; every tensor read is freed either way.
        /// </summary>
        /// <param name="reader">A reader positioned at the start of a saved module.</param>
        /// <param name="strict">Whether the saved keys must match this module's keys exactly.</param>
        /// <param name="skip">Keys to leave alone.</param>
        /// <param name="loadedParameters">If given, receives each saved key and whether this module has it.</param>
        /// <returns>This module.</returns>
        /// <exception cref="ArgumentException">A key, shape or dtype does not fit this module (nothing was loaded).</exception>
        /// <exception cref="InvalidDataException">The stream is not a saved module, holds a key twice, or ends early
        /// (nothing was loaded).</exception>
        public override torch.nn.Module load(BinaryReader reader, bool strict = true, IList<string>? skip = null,
            Dictionary<string, bool>? loadedParameters = null)
        {
            if (reader is null) throw new ArgumentNullException(nameof(reader));
            using var scope = torch.NewDisposeScope();   // every tensor read, also one left half-read by a short file
            var own = state_dict();
            var saved = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var seen = new List<(string key, bool known)>();
            string? current = null, lastKey = null;
            try
            {
                long entries = SavedFormat.ReadCount(reader);
                for (long i = 0; i < entries; i++)
                {
                    current = null;
                    string key = reader.ReadString();
                    current = lastKey = key;
                    if (saved.ContainsKey(key))
                        throw new InvalidDataException($"The saved module holds '{key}' twice; nothing was loaded.");
                    own.TryGetValue(key, out var target);
                    saved[key] = SavedFormat.ReadTensor(reader, key, target);
                    seen.Add((key, target is not null));
                }
            }
            catch (EndOfStreamException e)
            {
                throw new InvalidDataException(current is not null
                    ? $"The saved module ends inside '{current}' (the file is truncated); nothing was loaded."
                    : lastKey is null
                        ? "The saved module ends inside its first key (the file is truncated); nothing was loaded."
                        : $"The saved module ends inside the key after '{lastKey}' (the file is truncated); nothing was loaded.", e);
            }
            StateDicts.CheckAndCopy(this, saved, strict, skip, nameof(reader));
            if (loadedParameters is not null)
                foreach (var (key, known) in seen) loadedParameters.Add(key, known);
            return this;
        }
    }
}
