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
        /// Loads parameters and buffers saved with <c>save()</c> (TorchSharp's format). Every entry is read and checked
        /// first — a missing or unexpected key (when <paramref name="strict"/>) or a different shape raises an
        /// <see cref="ArgumentException"/> naming the key — and only then copied into the module.
        /// </summary>
        /// <param name="reader">A reader positioned at the start of a saved module.</param>
        /// <param name="strict">Whether the saved keys must match this module's keys exactly.</param>
        /// <param name="skip">Keys to leave alone.</param>
        /// <param name="loadedParameters">If given, receives each saved key and whether this module has it.</param>
        /// <returns>This module.</returns>
        public override torch.nn.Module load(BinaryReader reader, bool strict = true, IList<string>? skip = null,
            Dictionary<string, bool>? loadedParameters = null)
        {
            if (reader is null) throw new ArgumentNullException(nameof(reader));
            var saved = new Dictionary<string, Tensor>();
            try
            {
                long entries = DecodeLength(reader);
                var own = state_dict();
                for (long i = 0; i < entries; i++)
                {
                    string key = reader.ReadString();
                    saved[key] = TensorExtensionMethods.Load(reader);
                    loadedParameters?.Add(key, own.ContainsKey(key));
                }
                StateDicts.CheckAndCopy(this, saved, strict, skip, nameof(reader));
            }
            finally
            {
                foreach (var t in saved.Values) t.Dispose();
            }
            return this;
        }

        /// <summary>The entry count at the start of TorchSharp's format: an unsigned LEB128 integer.</summary>
        private static long DecodeLength(BinaryReader reader)
        {
            long result = 0;
            for (int shift = 0; ; shift += 7)
            {
                long b = reader.ReadByte();
                result |= (b & 0x7f) << shift;
                if ((b & 0x80) == 0) return result;
                if (shift > 56) throw new InvalidDataException("The stream is not a saved TorchSharp module.");
            }
        }
    }
}
