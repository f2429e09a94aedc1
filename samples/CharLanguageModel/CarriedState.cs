using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using static TorchSharp.torch;

namespace DuRnn.Samples.CharLanguageModel
{
    /// <summary>
    /// The recurrent state one chunk of text ends with and the next one starts from, for any of the models: DuRNN's
    /// (s, h), IndRNN's h, LSTM's (h, c), GRU's h, each (numLayers, B, ·). A model reads back the tensors it returned.
    /// </summary>
    internal sealed class CarriedState : IDisposable
    {
        private readonly Tensor[] tensors;

        /// <summary>Wraps <paramref name="tensors"/> (used, not copied).</summary>
        public CarriedState(params Tensor[] tensors) => this.tensors = tensors;

        /// <summary>The tensors, in the order the model returned them.</summary>
        public IReadOnlyList<Tensor> Tensors => tensors;

        /// <summary>
        /// The same values cut from the autograd graph (new tensors; this state is unchanged): truncated
        /// backpropagation through time carries the state across chunks, its gradient does not flow back.
        /// </summary>
        public CarriedState Detach() => new CarriedState(tensors.Select(t => t.detach()).ToArray());

        /// <summary>Moves the tensors to the dispose scope outside the current one, so they outlive the step's scope.</summary>
        /// <returns>This state.</returns>
        public CarriedState MoveToOuterDisposeScope()
        {
            foreach (var t in tensors) t.MoveToOuterDisposeScope();
            return this;
        }

        /// <summary>
        /// Writes the state to <paramref name="path"/>: the number of tensors, then for each its shape and its float32
        /// values (a small format of this sample's own; the state is a few hundred kilobytes).
        /// </summary>
        public void Save(string path)
        {
            using var scope = NewDisposeScope();
            using var writer = new BinaryWriter(File.Create(path));
            writer.Write(tensors.Length);
            foreach (var t in tensors)
            {
                var values = t.detach().to(ScalarType.Float32).contiguous();
                writer.Write(values.dim());
                foreach (long size in values.shape) writer.Write(size);
                foreach (float v in values.data<float>()) writer.Write(v);
            }
        }

        /// <summary>Reads a state written by <see cref="Save"/> (float32 tensors, not in any dispose scope).</summary>
        /// <exception cref="InvalidDataException">The file is damaged.</exception>
        public static CarriedState Load(string path)
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            int count = reader.ReadInt32();
            if (count is < 1 or > 16) throw new InvalidDataException($"{path} is not a carried state written by this sample.");
            var tensors = new Tensor[count];
            for (int i = 0; i < count; i++)
            {
                long rank = reader.ReadInt64();
                if (rank is < 1 or > 8) throw new InvalidDataException($"{path} is not a carried state written by this sample.");
                var shape = new long[rank];
                for (int d = 0; d < rank; d++) shape[d] = reader.ReadInt64();
                var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
                for (long j = 0; j < values.LongLength; j++) values[j] = reader.ReadSingle();
                tensors[i] = tensor(values, shape);
            }
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new InvalidDataException($"{path} is not a carried state written by this sample.");
            return new CarriedState(tensors);
        }

        /// <summary>Disposes the tensors.</summary>
        public void Dispose()
        {
            foreach (var t in tensors) t.Dispose();
        }
    }
}
