using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace DuRnn
{
    /// <summary>
    /// Loading a state dict read from a file saved by PyTorch (or by TorchSharp) into a module, with every key and
    /// shape checked first. DuRnn itself depends on TorchSharp only; to read and write PyTorch's file formats use
    /// <c>TorchSharp.PyBridge</c> (see the README's "PyTorch interop" section):
    /// <code>
    /// using TorchSharp.PyBridge;
    /// model.LoadStateDictChecked(PyTorchUnpickler.UnpickleStateDict("durnn.pt"));   // torch.save(model.state_dict(), ...)
    /// model.LoadStateDictChecked(Safetensors.LoadStateDict("durnn.safetensors"));
    /// model.save_py("durnn.pt");                                                     // for torch.load in Python
    /// </code>
    /// </summary>
    public static class DuRnnInterop
    {
        /// <summary>
        /// Copies every parameter and buffer of <paramref name="stateDict"/> into <paramref name="module"/>, after
        /// checking that its keys are exactly the module's <c>state_dict()</c> keys and that every tensor has the
        /// module's shape. On a mismatch nothing is copied and an <see cref="ArgumentException"/> names every missing
        /// key, unexpected key and shape mismatch.
        /// </summary>
        /// <remarks>
        /// <para>Values are copied in place under <c>torch.no_grad()</c> with <c>copy_</c>, as PyTorch's
        /// <c>load_state_dict</c> does: the module keeps its parameter objects, their <c>requires_grad</c>, device and
        /// dtype, and a tensor of another dtype is converted (a float64 file into a float32 model; PyTorch's int64
        /// <c>num_batches_tracked</c> into TorchSharp's, which is floating point when the model was built with a
        /// <c>dtype</c>).</para>
        /// <para>Use this rather than TorchSharp's <c>load_state_dict</c> (whose <c>copy_</c> broadcasts, so some
        /// wrong shapes load silently, and whose error names no key) or TorchSharp.PyBridge 1.4.4's <c>load_py</c>
        /// (which sets <c>requires_grad = false</c> on every parameter of a PyTorch-saved state dict, loads a smaller
        /// tensor into a larger parameter without an error, and names no key when one is missing).</para>
        /// <para>The tensors of <paramref name="stateDict"/> are not disposed: they belong to the caller (wrap the call
        /// in a <c>torch.NewDisposeScope()</c> to free them).</para>
        /// </remarks>
        /// <typeparam name="T">The module type.</typeparam>
        /// <param name="module">The module to load into, e.g. a <see cref="DuRNN"/> with the same configuration as
        /// the one that was saved.</param>
        /// <param name="stateDict">Keys (strings) to tensors: a <c>Dictionary&lt;string, Tensor&gt;</c> (TorchSharp's
        /// <c>state_dict()</c>, PyBridge's <c>Safetensors.LoadStateDict</c>) or a <see cref="Hashtable"/> (PyBridge's
        /// <c>PyTorchUnpickler.UnpickleStateDict</c>).</param>
        /// <returns>The module, for chaining.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="module"/> or <paramref name="stateDict"/> is null.</exception>
        /// <exception cref="ArgumentException">A key is not a string, a value is not a live tensor, a key is missing
        /// or unexpected, or a shape differs.</exception>
        public static T LoadStateDictChecked<T>(this T module, IDictionary stateDict) where T : torch.nn.Module
        {
            if (module is null) throw new ArgumentNullException(nameof(module));
            if (stateDict is null) throw new ArgumentNullException(nameof(stateDict));

            var source = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry entry in stateDict)
            {
                if (entry.Key is not string key)
                    throw new ArgumentException($"State dict keys must be strings; got a {entry.Key.GetType().Name} key '{entry.Key}'.", nameof(stateDict));
                if (entry.Value is not Tensor tensor)
                    throw new ArgumentException($"State dict entry '{key}' must be a tensor; got {(entry.Value is null ? "null" : "a " + entry.Value.GetType().Name)}.", nameof(stateDict));
                source[key] = tensor;
            }

            StateDicts.CheckAndCopy(module, source, strict: true, skip: null, nameof(stateDict));
            return module;
        }
    }
}
